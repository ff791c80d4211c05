"""`aoai-audit scan`: audit an estate and write the reports; the exit code is the gate."""

from __future__ import annotations

import codecs
import gc
import re
import sys

import click

from ..config import FAIL_LEVELS, ConfigError, load_settings, unknown_rule_ids
from ..report.escape import visible
from ..report.formats import FORMATS, ReportInputError, renderer
from .inputs import apply_usage, load_estate
from .options import (
    default_config,
    fail,
    live_options,
    outputs_for,
    rules_option,
    service_name_option,
    usage_args,
    usage_options,
)

_SURROGATE = re.compile("[\ud800-\udfff]")



_FFFD = "aoai-audit-fffd"


def _fffd(exc: UnicodeError) -> tuple[str, int]:
    """Write U+FFFD for what cannot be encoded and go on after it."""
    if isinstance(exc, (UnicodeEncodeError, UnicodeDecodeError, UnicodeTranslateError)):
        return "\ufffd", exc.end
    raise exc


codecs.register_error(_FFFD, _fffd)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@live_options
@click.option("--format", "formats", multiple=True, type=click.Choice(sorted(FORMATS)), help="Output format (repeatable).")
@click.option("--output", "-o", "outputs", multiple=True, help="Write to FILE (one per --format, in order).")
@click.option("--output-dir", help="Write every format into this directory as aoai-audit.<ext>.")
@click.option("--fail-on", type=click.Choice(FAIL_LEVELS), help="Gate threshold (default: high).")
@click.option("--config", "config_path", type=click.Path(), help="YAML config (suppressions, LLM overrides, thresholds).")
@click.option("--baseline", type=click.Path(), help="Previous JSON report: only new findings fail the gate.")
@click.option("--only", multiple=True, help="Run only these rules (e.g. TM001,TM002).")
@click.option("--skip", multiple=True, help="Skip these rules.")
@click.option("--llm-api", "llm_include", multiple=True, help="Treat APIs matching this glob as LLM APIs.")
@click.option("--not-llm-api", "llm_exclude", multiple=True, help="Never treat APIs matching this glob as LLM APIs.")
@click.option("--previous", type=click.Path(), help="JSON report of an earlier run: the HTML report shows what changed.")
@click.option("--reader-principal", help="Object id of the identity that produces chargeback data (RB rules).")
@service_name_option
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
@click.option("--nothing-ok", is_flag=True, help="Exit 0 with 'nothing to audit' when the paths hold no API "
              "Management artefact (the pre-commit hooks).")
@usage_options
def scan(
    paths, formats, outputs, output_dir, fail_on, config_path, baseline, only, skip, llm_include, llm_exclude,
    previous, reader_principal, service_name, color, nothing_ok, usage_files, no_usage, window, date_from, date_to,
    prices_file, cost_centres_file, **live,
):
    """Audit an estate: APIOps folders, ARM/Bicep JSON, Terraform JSON, policy files, snapshots, or live Azure."""
    if nothing_ok:
        from ..hook import NOTHING, apim_paths

        given, paths = paths, tuple(apim_paths(paths))
        if given and not paths:
            click.echo(NOTHING.format(where=", ".join(given)), err=True)
            sys.exit(0)
    # The estate is a large acyclic tree of frozen objects, and the imports below (engine, every check) make
    # tens of thousands of objects: the cycle collector only costs time here (re-enabled after the audit).
    gc.disable()
    from ..baseline import load_baseline
    from ..engine import run_audit
    from ..rules import load_registry

    try:
        config_settings = load_settings(config_path or default_config())
    except ConfigError as exc:
        fail(str(exc))
    settings = config_settings.with_cli(
        fail_on=fail_on,
        only=rules_option(only) or None,
        skip=rules_option(skip) or None,
        llm_include=(config_settings.llm_include + tuple(llm_include)) if llm_include else None,
        llm_exclude=(config_settings.llm_exclude + tuple(llm_exclude)) if llm_exclude else None,
        reader_principal=reader_principal,
        service_name=service_name,
    )
    registry = load_registry()
    known = lambda r: registry.rule(r) is not None or r in registry.failed  # noqa: E731
    unknown = [r for r in rules_option(only) + rules_option(skip) if not known(r)]
    if unknown:
        fail(f"unknown rule id(s): {', '.join(unknown)} (see `aoai-audit rules`)")
    problem = unknown_rule_ids(config_settings, known)
    if problem:
        fail(problem)
    known_baseline = frozenset()
    if baseline:
        try:
            known_baseline = load_baseline(baseline)
        except ConfigError as exc:
            fail(str(exc))
    try:
        usage = usage_args(usage_files, no_usage, window, date_from, date_to, prices_file, cost_centres_file)
        with load_estate(paths, live, settings.reader_principal, usage, settings.service_name) as (estate, live_usage):
            estate, settings = apply_usage(estate, settings, usage)
            result = run_audit(estate, registry, settings, known_baseline, live_usage)
    except FileNotFoundError as exc:
        fail(f"{exc.args[0]}: no such file or directory")
    finally:
        gc.freeze()  # move the estate to the permanent generation: the reports after this never walk it again
        gc.enable()
    if result.saw_nothing and nothing_ok and not result.estate.gaps:
        from ..hook import NOTHING

        click.echo(NOTHING.format(where=", ".join(paths)), err=True)
        sys.exit(0)
    targets = outputs_for(formats, outputs, output_dir)
    try:
        _write_reports(result, registry, targets, color, previous)
    except OSError as exc:
        fail(f"{exc.filename or 'output'}: cannot write the report: {exc.strerror or exc}")
    written = [target for _, target in targets if target]
    if written and not live["quiet"]:  # reports went to files: the CI log still shows the verdict
        click.echo(f"aoai-audit: {visible(result.summary_line())} · wrote {', '.join(written)}", err=True)
    if result.saw_nothing:
        click.echo("aoai-audit: nothing could be audited in " + (", ".join(paths) or "the subscriptions given"), err=True)
    if result.unparsed_statements:
        click.echo("aoai-audit: not audited (could not be parsed): " + visible(", ".join(result.unparsed_statements)),
                   err=True)
    if result.unloaded:
        click.echo(
            f"aoai-audit: check(s) {', '.join(result.unloaded)} failed to load, so the audit is incomplete and the "
            "gate fails (exit 2); fix the plugin or --skip them",
            err=True,
        )
    for c in result.crashed:
        click.echo(f"aoai-audit: check {c.rule.id} crashed ({visible(c.error)}), so the audit is incomplete and the gate "
                   "fails (exit 2); --log-level debug shows the traceback", err=True)
    sys.exit(result.exit_code())



def _write_reports(result, registry, targets, color, previous) -> None:
    """Render each format to its file or stdout (an unwritable target is an OSError for the caller)."""
    for fmt, target in targets:
        render = renderer(fmt)
        if fmt == "json" and target:
            from ..report.json_report import write_json

            # errors=: a non-UTF-8 file name (a surrogate escape) is written as U+FFFD, as on the string path
            with open(target, "w", encoding="utf-8", newline="\n", errors=_FFFD) as fh:
                write_json(result, registry, fh)
            continue
        if fmt == "text":  # the two formats with options of their own are called by name
            from ..report.text import render_text

            use_color = color if color is not None else (target is None and sys.stdout.isatty())
            text = render_text(result, registry, color=use_color)
        elif fmt == "html" and previous:
            from ..report.html import render_html

            text = render_html(result, registry, previous=_previous_report(previous))
        else:
            try:
                text = render(result, registry)
            except ReportInputError as exc:
                fail(str(exc))
        # file names that are not UTF-8 reach here as surrogate escapes: show them as U+FFFD, never crash
        # (checked first: copying a 10,000-API report twice costs more memory than the report itself)
        if _SURROGATE.search(text):
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if target:
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        else:
            click.echo(text, nl=False)



def _previous_report(path: str) -> dict:
    from ..report.diff import DiffError, load_report

    try:
        return load_report(path)
    except DiffError as exc:
        fail(str(exc))
        raise

