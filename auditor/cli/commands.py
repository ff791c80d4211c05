"""`aoai-audit diff`, `collect` and `kql`: compare reports, save an estate as a snapshot, print the usage queries."""

from __future__ import annotations

import sys

import click

from ..config import ConfigError, Settings, load_settings
from .inputs import apply_usage, load_estate
from .options import (
    default_config,
    fail,
    live_options,
    service_name_option,
    usage_args,
    usage_options,
    usage_window,
    window_options,
)


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(old, new, fmt):
    """What changed between two JSON reports: fixed, new, changed severity. Exit 1 when anything is new."""
    import json as _json

    from ..report.diff import DiffError, diff_reports, load_report, render_diff

    try:
        result = diff_reports(load_report(old), load_report(new))
    except DiffError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(_json.dumps({"new": result.new, "fixed": result.fixed,
                                "changed": [{"old": o, "new": n} for o, n in result.changed],
                                "unchanged": result.unchanged}, indent=2))
    else:
        click.echo(render_diff(result), nl=False)
    sys.exit(1 if result.new else 0)



@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@live_options
@click.option("--reader-principal", help="Object id of the identity that produces chargeback data.")
@click.option("--output", "-o", required=True, help="Snapshot file to write (gzip when it ends in .gz).")
@service_name_option
@usage_options
def collect(paths, output, reader_principal, service_name, usage_files, no_usage, window, date_from, date_to, prices_file,
            cost_centres_file, **live):
    """Read an estate (files or live Azure) and save it as a snapshot, to audit later with `scan SNAPSHOT`."""
    from ..snapshot import write_snapshot

    usage = usage_args(usage_files, no_usage, window, date_from, date_to)
    with load_estate(paths, live, reader_principal, usage, service_name=service_name) as (estate, live_usage):
        if live_usage is not None:
            from ..engine import with_live_usage

            estate = with_live_usage(estate, Settings(), live_usage)
    estate, _ = apply_usage(estate, None, usage)
    write_snapshot(estate, output)
    services = len(estate.services)
    apis = sum(len(s.apis) for s in estate.services)
    from ..engine import run_audit
    from ..rules import load_registry

    # what `scan SNAPSHOT` will report with the default rules and settings: the count a reader expects here
    result = run_audit(estate, load_registry(), Settings())
    click.echo(f"aoai-audit: wrote {output}: {services} service(s), {apis} API(s), {len(result.active)} finding(s) "
               f"with the default rules, {len(estate.gaps)} part(s) that could not be read", err=True)
    # Files that hold nothing are said as `scan` of them says it, never a silent empty snapshot; a live slice of
    # subscriptions with no APIM or AI account is a true "nothing" (docs/ci/sharding.md: it must not stop the scan).
    if result.saw_nothing and not estate.gaps and paths:
        click.echo(f"aoai-audit: nothing could be read in {', '.join(paths)} (exit 2): no APIM service, account or "
                   "assignment", err=True)
        sys.exit(2)



@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@live_options
@window_options
@click.option("--config", "config_path", type=click.Path(), help="YAML config (LLM API overrides).")
@service_name_option
def kql(paths, window, date_from, date_to, config_path, service_name, **live):
    """Print the usage queries built from this estate, to run in the portal and feed back with --usage."""
    from ..context import build_context
    from ..usage.kql import build_queries, deployments_command, platform_metrics_command

    try:
        settings = load_settings(config_path or default_config())
    except ConfigError as exc:
        fail(str(exc))
    start, end = usage_window(window, date_from, date_to)
    with load_estate(paths, {**live, "quiet": True}, service_name=service_name or settings.service_name) as (estate, _):
        ctx = build_context(estate, settings)
    queries = build_queries(estate, ctx.llm_apis, start, end)
    if not queries and not estate.accounts:
        fail("no APIM service or Azure OpenAI account in " + (", ".join(paths) or "the subscriptions given"))
    for i, q in enumerate(queries, 1):
        where = f"run against {q.target}" if q.target else "run in the Log Analytics workspace of its Application Insights"
        click.echo(f"// ---- query {i}: {q.title}\n// {where}\n{q.text}\n")
    for account in estate.accounts:
        name = "".join(ch if ch.isprintable() else "?" for ch in account.name)
        click.echo(f"# platform tokens of {name} (Azure Monitor metrics, per deployment and day):\n"
                   f"{platform_metrics_command(account.resource_id, start, end)}\n"
                   f"# its deployments (their SKU prices the platform rows):\n"
                   f"{deployments_command(account.resource_id)}\n")
    click.echo("// Export each result as CSV and pass it back: aoai-audit scan ... --usage result.csv", err=True)

