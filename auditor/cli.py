"""The `aoai-audit` command line. Exit codes: 0 gate passed, 1 findings at/above threshold, 2 usage error
or nothing could be audited."""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gc
import os
import re
import sys
from dataclasses import replace

import click

from . import __version__
from .config import FAIL_LEVELS, ConfigError, Settings, load_settings, unknown_rule_ids
from .report.escape import visible
from .report.formats import FORMATS, ReportInputError, extension, renderer

# Each command imports what it needs when it runs: `--version`, `rules` or a pre-commit run on one file must
# not pay for the engine, the usage and price tables, urllib, YAML or the Azure SDKs (benchmarks/bench_startup.py).

_SURROGATE = re.compile("[\ud800-\udfff]")
_FFFD = "aoai-audit-fffd"
codecs.register_error(_FFFD, lambda exc: ("\ufffd", exc.end))


def _rules_option(value: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in value:
        out.extend(x.strip().upper() for x in v.replace(",", " ").split() if x.strip())
    return tuple(out)


def _fail(message: str) -> None:
    from .engine import EXIT_USAGE

    click.echo(f"aoai-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aoai-audit")  # entry.py answers a lone --version the same way
@click.option("--log-level", type=click.Choice(["warning", "info", "debug"]), default="warning", show_default=True,
              help="Log to stderr (secrets are redacted from every record, the Azure SDKs' included).")
def main(log_level: str) -> None:
    """Find the holes in per-team cost attribution for Azure OpenAI behind API Management."""
    from .logs import configure

    configure(log_level)


def _outputs(formats: tuple[str, ...], outputs: tuple[str, ...], output_dir: str | None) -> list[tuple[str, str | None]]:
    formats = formats or ("text",)
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        return [(f, os.path.join(output_dir, f"aoai-audit.{extension(f)}")) for f in formats]
    if outputs and len(outputs) != len(formats):
        if len(formats) == 1 and len(outputs) == 1:
            pass
        else:
            _fail("give one --output per --format (in the same order), or use --output-dir")
    return [(f, outputs[i] if i < len(outputs) else None) for i, f in enumerate(formats)]

def live_options(func):
    """Options that make `scan` and `collect` read live Azure instead of files."""
    options = [
        click.option("--subscription", "subscriptions", multiple=True, help="Audit this subscription live (repeatable)."),
        click.option("--all-subscriptions", is_flag=True, help="Audit every subscription the identity can see."),
        click.option("--resource-group", help="Only this resource group."),
        click.option("--apim", help="Only the API Management service with this name."),
        click.option("--tenant", help="Microsoft Entra tenant to sign in to."),
        click.option("--cloud", type=click.Choice(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]),
                     default="AzureCloud", show_default=True),
        click.option("--arm-endpoint", help="Resource Manager endpoint (private clouds, tests)."),
        click.option("--logs-endpoint", help="Log Analytics query endpoint (default: the cloud's; with "
                     "--arm-endpoint, that endpoint)."),
        click.option("--quiet", is_flag=True, help="Nothing on stderr but errors: no progress, no summary line."),
        click.option("--jobs", type=click.IntRange(min=1), help="Processes that read slices of the subscriptions "
                     "side by side (default: one per CPU core, at most one per subscription)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


service_name_option = click.option(
    "--service-name", help="Name of the APIM service an APIOps folder holds, where its extractor configuration "
    "does not say (default: the folder's name). Part of every fingerprint.")


def window_options(func):
    """The usage window, for `scan`, `collect` and `kql` alike."""
    options = [
        click.option("--window", default="30d", show_default=True, help="Usage window ending yesterday: 30d, 7d, 4w."),
        click.option("--from", "date_from", help="First day of the usage window (YYYY-MM-DD)."),
        click.option("--to", "date_to", help="Last day of the usage window (YYYY-MM-DD, inclusive)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def usage_options(func):
    """Usage, prices and cost centres: the money half of the audit (KQ rules, the report's usage section)."""
    options = [
        click.option("--usage", "usage_files", multiple=True, type=click.Path(),
                     help="Exported usage (CSV or JSON, see `aoai-audit kql`); repeatable."),
        click.option("--no-usage", is_flag=True, help="Live runs: do not query Log Analytics or platform metrics."),
        window_options,
        click.option("--prices", "prices_file", type=click.Path(), help="Price overrides (negotiated prices)."),
        click.option("--cost-centres", "cost_centres_file", type=click.Path(),
                     help="Cost-centre map (YAML or CSV): consumer, product or API → cost centre and owner."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _usage_args(usage_files, no_usage, window, date_from, date_to, prices_file=None, cost_centres_file=None) -> dict:
    """What the usage options asked for; usage files stand in for a live usage read."""
    return dict(usage_files=usage_files, no_usage=no_usage or bool(usage_files), window=window, date_from=date_from,
                date_to=date_to, prices_file=prices_file, cost_centres_file=cost_centres_file)


def usage_window(window: str, date_from: str | None, date_to: str | None) -> tuple[dt.date, dt.date]:
    """`--window 30d` is the 30 full days before today; --from/--to override either end."""
    try:
        end = dt.date.fromisoformat(date_to) if date_to else dt.date.today() - dt.timedelta(days=1)
        if date_from:
            start = dt.date.fromisoformat(date_from)
        else:
            match = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", window or "")
            if not match:
                raise ValueError(f"--window must look like 30d or 4w, got {window!r}")
            days = int(match[1]) * (7 if match[2] == "w" else 1)
            start = end - dt.timedelta(days=max(days, 1) - 1)
    except ValueError as exc:
        _fail(str(exc) if "--window" in str(exc) else f"--from/--to must be dates like 2026-11-01 ({exc})")
    if start > end:
        _fail(f"the usage window starts ({start}) after it ends ({end})")
    return start, end


def _apply_usage(estate, settings, usage: dict):
    """Load --usage files onto the estate and --prices / --cost-centres into the settings."""
    if not (usage["usage_files"] or usage["prices_file"] or usage["cost_centres_file"]):
        return estate, settings  # the usage readers are not imported for an audit without them
    from .usage.costcentres import CostCentreError, load_cost_centres
    from .usage.files import UsageFileError, load_usage_file
    from .usage.prices import PriceFileError, load_prices, shipped_prices

    paths = []
    for path in usage["usage_files"]:  # a folder stands for the exports in it (CSV and JSON, by name)
        if os.path.isdir(path):
            paths += sorted(os.path.join(root, f) for root, _d, names in os.walk(path) for f in names
                            if f.lower().endswith((".csv", ".json")))
        else:
            paths.append(path)
    try:
        for path in paths:
            data = load_usage_file(path)
            estate = replace(estate, usage=estate.usage.merge(data) if estate.usage else data)
        if usage["prices_file"]:
            settings = replace(settings, prices=shipped_prices().overridden_by(load_prices(usage["prices_file"])))
        if usage["cost_centres_file"]:
            settings = replace(settings, cost_centres=load_cost_centres(usage["cost_centres_file"]))
    except FileNotFoundError as exc:
        _fail(f"{exc.filename}: no such file")
    except (UsageFileError, PriceFileError, CostCentreError) as exc:
        _fail(str(exc))
    return estate, settings


class _ProgressBar:
    """A progress bar on stderr for live runs at a terminal (services read / found, requests, throttling)."""

    def __init__(self, counter_text):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.counter_text = counter_text
        self.progress = Progress(TextColumn("[bold]reading[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[requests]}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("services", total=0, requests="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def add(self, n: int) -> None:
        task = self.progress.tasks[0]
        self.progress.update(self.task, total=(task.total or 0) + n, requests=self.counter_text())

    def advance(self, label: str) -> None:
        self.progress.update(self.task, advance=1, description=label, requests=self.counter_text())


@contextlib.contextmanager
def _live_estate(live: dict, reader_principal: str | None, usage: dict | None = None):
    """The live estate and, when a usage window applies, the reader of its usage (the usage phase calls it once
    the context says which APIs to query); the connections stay open until the caller is done."""
    from .sources.live import LiveOptions, RequestCounter, live_session

    def say(msg: str) -> None:
        click.echo(f"aoai-audit: {msg}", err=True)

    bar, progress = None, None
    counter_box: list[RequestCounter] = []
    if not live["quiet"] and sys.stderr.isatty():
        bar = _ProgressBar(lambda: counter_box[0].short() if counter_box else "")
    elif not live["quiet"]:
        progress = say  # not a terminal (CI logs): one line per step instead of a bar
    options = LiveOptions(
        subscriptions=tuple(live["subscriptions"]), resource_group=live["resource_group"], apim=live["apim"],
        tenant=live["tenant"], cloud=live["cloud"], arm_endpoint=live["arm_endpoint"],
        reader_principal=reader_principal, progress=progress, all_subscriptions=live["all_subscriptions"],
        tracker=bar, jobs=live.get("jobs"),
    )
    window = None if not usage or usage["no_usage"] else usage_window(usage["window"], usage["date_from"],
                                                                       usage["date_to"])
    with bar or contextlib.nullcontext(), live_session(options, counter_box.append if bar else None) as collector:
        estate = collector.collect()
        reader = None if window is None else collector.usage_reader(
            window, live.get("logs_endpoint") or live["arm_endpoint"])
        yield estate, reader
    if not live["quiet"]:
        click.echo(f"aoai-audit: {collector.counter.summary()}", err=True)


@contextlib.contextmanager
def _load(paths, live: dict, reader_principal: str | None = None, usage: dict | None = None,
          service_name: str | None = None):
    """The estate to audit, and the live usage reader when usage is read live (None otherwise)."""
    if live["subscriptions"] or live["all_subscriptions"]:
        if paths:
            _fail("give PATHs or --subscription, not both")
        with _live_estate(live, reader_principal, usage) as loaded:
            yield loaded
        return
    if not paths:
        _fail("give at least one PATH to audit (an APIOps folder, template, plan, policy file or snapshot), "
              "or --subscription ID to audit live")
    from .sources.detect import load_paths

    yield load_paths(list(paths), service_name), None


@main.command()
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
@usage_options
def scan(
    paths, formats, outputs, output_dir, fail_on, config_path, baseline, only, skip, llm_include, llm_exclude,
    previous, reader_principal, service_name, color, usage_files, no_usage, window, date_from, date_to, prices_file,
    cost_centres_file, **live,
):
    """Audit an estate: APIOps folders, ARM/Bicep JSON, Terraform JSON, policy files, snapshots, or live Azure."""
    # The estate is a large acyclic tree of frozen objects, and the imports below (engine, every check) make
    # tens of thousands of objects: the cycle collector only costs time here (re-enabled after the audit).
    gc.disable()
    from .baseline import load_baseline
    from .engine import run_audit
    from .rules import load_registry

    try:
        config_settings = load_settings(config_path or _default_config())
    except ConfigError as exc:
        _fail(str(exc))
    settings = config_settings.with_cli(
        fail_on=fail_on,
        only=_rules_option(only) or None,
        skip=_rules_option(skip) or None,
        llm_include=(config_settings.llm_include + tuple(llm_include)) if llm_include else None,
        llm_exclude=(config_settings.llm_exclude + tuple(llm_exclude)) if llm_exclude else None,
        reader_principal=reader_principal,
        service_name=service_name,
    )
    registry = load_registry()
    known = lambda r: registry.rule(r) is not None or r in registry.failed  # noqa: E731
    unknown = [r for r in _rules_option(only) + _rules_option(skip) if not known(r)]
    if unknown:
        _fail(f"unknown rule id(s): {', '.join(unknown)} (see `aoai-audit rules`)")
    problem = unknown_rule_ids(config_settings, known)
    if problem:
        _fail(problem)
    known_baseline = frozenset()
    if baseline:
        try:
            known_baseline = load_baseline(baseline)
        except ConfigError as exc:
            _fail(str(exc))
    try:
        usage = _usage_args(usage_files, no_usage, window, date_from, date_to, prices_file, cost_centres_file)
        with _load(paths, live, settings.reader_principal, usage, settings.service_name) as (estate, live_usage):
            estate, settings = _apply_usage(estate, settings, usage)
            result = run_audit(estate, registry, settings, known_baseline, live_usage)
    except FileNotFoundError as exc:
        _fail(f"{exc.args[0]}: no such file or directory")
    finally:
        gc.freeze()  # move the estate to the permanent generation: the reports after this never walk it again
        gc.enable()
    targets = _outputs(formats, outputs, output_dir)
    try:
        _write_reports(result, registry, targets, color, previous)
    except OSError as exc:
        _fail(f"{exc.filename or 'output'}: cannot write the report: {exc.strerror or exc}")
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
            from .report.json_report import write_json

            # errors=: a non-UTF-8 file name (a surrogate escape) is written as U+FFFD, as on the string path
            with open(target, "w", encoding="utf-8", newline="\n", errors=_FFFD) as fh:
                write_json(result, registry, fh)
            continue
        if fmt == "text":
            use_color = color if color is not None else (target is None and sys.stdout.isatty())
            text = render(result, registry, color=use_color)
        elif fmt == "html" and previous:
            text = render(result, registry, previous=_previous_report(previous))
        else:
            try:
                text = render(result, registry)
            except ReportInputError as exc:
                _fail(str(exc))
        # file names that are not UTF-8 reach here as surrogate escapes: show them as U+FFFD, never crash
        # (checked first: copying a 10,000-API report twice costs more memory than the report itself)
        if _SURROGATE.search(text):
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if target:
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        else:
            click.echo(text, nl=False)


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(old, new, fmt):
    """What changed between two JSON reports: fixed, new, changed severity. Exit 1 when anything is new."""
    import json as _json

    from .report.diff import DiffError, diff_reports, load_report, render_diff

    try:
        result = diff_reports(load_report(old), load_report(new))
    except DiffError as exc:
        _fail(str(exc))
    if fmt == "json":
        click.echo(_json.dumps({"new": result.new, "fixed": result.fixed,
                                "changed": [{"old": o, "new": n} for o, n in result.changed],
                                "unchanged": result.unchanged}, indent=2))
    else:
        click.echo(render_diff(result), nl=False)
    sys.exit(1 if result.new else 0)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@live_options
@click.option("--reader-principal", help="Object id of the identity that produces chargeback data.")
@click.option("--output", "-o", required=True, help="Snapshot file to write (gzip when it ends in .gz).")
@service_name_option
@usage_options
def collect(paths, output, reader_principal, service_name, usage_files, no_usage, window, date_from, date_to, prices_file,
            cost_centres_file, **live):
    """Read an estate (files or live Azure) and save it as a snapshot, to audit later with `scan SNAPSHOT`."""
    from .snapshot import write_snapshot

    usage = _usage_args(usage_files, no_usage, window, date_from, date_to)
    with _load(paths, live, reader_principal, usage, service_name=service_name) as (estate, live_usage):
        if live_usage is not None:
            from .engine import with_live_usage

            estate = with_live_usage(estate, Settings(), live_usage)
    estate, _ = _apply_usage(estate, None, usage)
    write_snapshot(estate, output)
    services = len(estate.services)
    apis = sum(len(s.apis) for s in estate.services)
    click.echo(f"aoai-audit: wrote {output}: {services} service(s), {apis} API(s), {len(estate.gaps)} gap(s)", err=True)


def _previous_report(path: str) -> dict:
    from .report.diff import DiffError, load_report

    try:
        return load_report(path)
    except DiffError as exc:
        _fail(str(exc))
        raise


def _default_config() -> str | None:
    for name in (".aoai-audit.yaml", ".aoai-audit.yml"):
        if os.path.isfile(name):
            return name
    return None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@live_options
@window_options
@click.option("--config", "config_path", type=click.Path(), help="YAML config (LLM API overrides).")
@service_name_option
def kql(paths, window, date_from, date_to, config_path, service_name, **live):
    """Print the usage queries built from this estate, to run in the portal and feed back with --usage."""
    from .context import build_context
    from .usage.kql import build_queries, deployments_command, platform_metrics_command

    try:
        settings = load_settings(config_path or _default_config())
    except ConfigError as exc:
        _fail(str(exc))
    start, end = usage_window(window, date_from, date_to)
    with _load(paths, {**live, "quiet": True}, service_name=service_name or settings.service_name) as (estate, _):
        ctx = build_context(estate, settings)
    queries = build_queries(estate, ctx.llm_apis, start, end)
    if not queries and not estate.accounts:
        _fail("no APIM service or Azure OpenAI account in " + (", ".join(paths) or "the subscriptions given"))
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


@main.group()
def prices() -> None:
    """The token price table used to put money on usage."""


@prices.command("refresh")
@click.option("--output", "-o", required=True, help="Where to write the rebuilt table (JSON).")
@click.option("--endpoint", default=None, help="Retail Prices API URL (tests, mirrors).")
def prices_refresh(output: str, endpoint: str | None) -> None:
    """Rebuild the price table from the public Azure Retail Prices API (anonymous, read-only GETs)."""
    from .usage.prices import RETAIL_PRICES_URL, RefreshError, refresh

    try:
        table = refresh(output, endpoint or RETAIL_PRICES_URL)
    except RefreshError as exc:
        _fail(str(exc))
    except (OSError, ValueError) as exc:  # unreachable, or a body that is not JSON
        _fail(f"cannot read the Retail Prices API at {endpoint or RETAIL_PRICES_URL}: {exc}")
    click.echo(f"aoai-audit: wrote {output}: {len(table.prices)} price(s) as of {table.as_of}", err=True)


@prices.command("show")
@click.option("--prices", "prices_file", type=click.Path(), help="Override file to apply over the shipped table.")
def prices_show(prices_file: str | None) -> None:
    """Print the price table in effect (per 1M tokens)."""
    from .usage.prices import PriceFileError, load_prices, shipped_prices

    table = shipped_prices()
    if prices_file:
        try:
            table = table.overridden_by(load_prices(prices_file))
        except PriceFileError as exc:
            _fail(str(exc))
    click.echo(f"# {table.source} · {table.currency} per 1M tokens")
    click.echo(f"{'model':28} {'version':8} {'type':10} {'region':14} {'input':>9} {'cached':>9} {'output':>9}")
    for p in table.prices:
        cached = "-" if p.cached_input is None else f"{p.cached_input:.4f}"
        click.echo(f"{p.model:28} {p.version or '*':8} {p.deployment_type:10} {p.region:14} {p.input:>9.4f} "
                   f"{cached:>9} {p.output:>9.4f}")


@main.command("rules")
def list_rules() -> None:
    """List the rule catalogue."""
    from .rules import load_registry

    registry = load_registry()
    for check in registry.checks:
        r = check.rule
        provider = "" if check.provider == "aoai-audit" else f"  [{check.provider}]"
        click.echo(f"{r.id:7} {r.severity.value:7} {r.title}{provider}")
    for err in registry.errors:
        click.echo(f"warning: {err}", err=True)


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Print a rule's rationale, detection and fix."""
    from .docs import rule_markdown
    from .rules import load_registry

    rule = load_registry().rule(rule_id)
    if rule is None:
        _fail(f"unknown rule id {rule_id!r} (see `aoai-audit rules`)")
    click.echo(rule_markdown(rule))


@main.command()
@click.option("--output", "-o", default="docs/rules", show_default=True, help="Directory for the rule pages.")
def docs(output: str) -> None:
    """Generate the rule documentation pages from the rule metadata."""
    from .docs import write_docs
    from .rules import load_registry

    registry = load_registry()
    rules = [c.rule for c in registry.checks if c.provider == "aoai-audit"]
    for path in write_docs(rules, output):
        click.echo(path)


if __name__ == "__main__":  # pragma: no cover - `python -m aoai_audit.cli`: internal errors exit 2 here too
    from .entry import main as _entry

    _entry()
