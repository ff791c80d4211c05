"""`aoai-audit fix`: the repairs the audit can prove, as a patch to review (default) or written in place.

Exit codes: 0 nothing left to change (or `--write` wrote it), 1 `--diff` printed a change to apply (as `ruff
--diff` does, so CI can tell "needs a fix"), or, for ARM/Terraform JSON (never edited, with or without `--write`),
statements to add to the Bicep or HCL source were printed; 2 nothing could be audited or bad input.
"""

from __future__ import annotations

import os
import sys

import click

from ..config import ConfigError, load_settings
from .options import default_config, fail, rules_option, service_name_option, usage_args, usage_options


def _say(msg: str) -> None:
    from ..report.escape import visible

    click.echo(f"aoai-audit fix: {visible(msg)}", err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rule", "rules", multiple=True, help="Only repairs for these rules (TM007, TM004, TM006, TM001, "
              "HD001; repeatable or comma-separated). Default: all of them.")
@click.option("--diff", "mode", flag_value="diff", default=True, help="Print the change as a patch (the default).")
@click.option("--write", "mode", flag_value="write", help="Edit the files in place.")
@click.option("--config", "config_path", type=click.Path(), help="YAML config (LLM API overrides, attribution headers).")
@service_name_option
@usage_options
def fix(paths, rules, mode, config_path, service_name, usage_files, no_usage, window, date_from, date_to, prices_file,
        cost_centres_file):
    """Close the gaps the audit finds in APIOps folders and policy files: restore <base />, add the estate's own
    token metric and attribution header, rename the legacy metric, drop exactly duplicated dimensions. Every
    change is proven by re-auditing the fixed estate first; ARM/Terraform inputs get the statement to add."""
    from ..fix.run import FIXABLE, run_fix, write_fixed
    from ..fix.udiff import file_patch, secret_lines
    from ..project_root import find_project_root, project_path
    from ..rules import load_registry

    if not paths:
        fail("give at least one PATH: an APIOps folder or policy files (ARM/Terraform JSON get statements to add)")
    chosen = rules_option(rules)
    unknown = [r for r in chosen if r not in FIXABLE]
    if unknown:
        fail(f"cannot fix {', '.join(unknown)}: fixable rules are {', '.join(sorted(FIXABLE))}")
    try:
        settings = load_settings(config_path or default_config())
    except ConfigError as exc:
        fail(str(exc))
    settings = settings.with_cli(service_name=service_name)
    for path in paths:
        if not os.path.exists(path):
            fail(f"{path}: no such file or directory")
    usage = None
    if usage_files or prices_file or cost_centres_file:  # audited as `scan` with the same options would be
        from ..estate import Estate
        from .inputs import apply_usage

        asked = usage_args(usage_files, no_usage, window, date_from, date_to, prices_file, cost_centres_file)
        estate, settings = apply_usage(Estate(), settings, asked)
        usage = estate.usage
    result = run_fix(list(paths), load_registry(), settings, settings.service_name, chosen or None, usage)
    for note in result.notes:
        _say(note)
    if result.notes and not result.applied:
        sys.exit(2)
    for a in result.applied:
        closed = ", ".join(f"{r} on {res}" for r, res, *_ in a.closed)
        _say(f"{a.repair.rule_id}: {a.option.summary} in {a.repair.where()}; closes {closed}")
    for d in result.declined:
        _say(f"{d.rule_id} on {d.resource} not fixed: {d.reason}")
    closed = result.before - result.after
    _say(f"proof: re-audit of the fixed estate: {len(result.before)} finding(s) before, {len(result.after)} after, "
         f"{len(closed)} closed, {len(result.after - result.before)} new")
    changed = result.changed
    if result.statements:
        from ..report.escape import visible

        lines = [f"# {visible(f'{s.rule_id} {s.resource}: {s.where}')}\n{s.statement}\n" for s in result.statements]
        text = "# ARM/Terraform input is generated: add these in its Bicep or HCL source, then scan again\n" \
            + "".join(lines)
        if changed and mode == "diff":
            click.echo(text, err=True, nl=False)
        else:
            click.echo(text, nl=False)
    if not changed and result.statements:
        _say(f"no file changed: ARM and Terraform JSON are generated; add the {len(result.statements)} statement(s) "
             "above to the Bicep or HCL source")
        sys.exit(1)
    if not changed:
        _say("no change: nothing left that a proven, mechanical repair can close")
        sys.exit(0)
    if mode == "write":
        for path in write_fixed(result):
            _say(f"wrote {path}")
        sys.exit(0)
    top = find_project_root(os.path.abspath(paths[0]))  # cached by argument: never by a relative spelling
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    for path, (old, new) in changed.items():
        patch = file_patch(project_path(path, top), old, new, secret_lines(old))
        if patch.withheld:
            _say(f"{path}: change withheld from the patch ({patch.withheld}); apply it with --write")
            continue
        if out is not None:
            out.write(patch.text.encode("utf-8"))
        else:
            click.echo(patch.text, nl=False)
    if out is not None:
        out.flush()
    sys.exit(1)
