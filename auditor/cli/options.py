"""Options and argument handling the commands share: live reads, the usage window, outputs, rule lists."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from typing import NoReturn

import click

from ..report.formats import extension


def rules_option(value: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in value:
        out.extend(x.strip().upper() for x in v.replace(",", " ").split() if x.strip())
    return tuple(out)



def fail(message: str) -> NoReturn:
    from ..engine import EXIT_USAGE

    click.echo(f"aoai-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)



def outputs_for(formats: tuple[str, ...], outputs: tuple[str, ...], output_dir: str | None) -> list[tuple[str, str | None]]:
    formats = formats or ("text",)
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        return [(f, os.path.join(output_dir, f"aoai-audit.{extension(f)}")) for f in formats]
    if outputs and len(outputs) != len(formats):
        if len(formats) == 1 and len(outputs) == 1:
            pass
        else:
            fail("give one --output per --format (in the same order), or use --output-dir")
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
        click.option("--window", default=None, help="Usage window ending yesterday: 30d, 7d, 4w (default 30d for live "
                     "usage; usage files are filtered only when --window, --from or --to is given)."),
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



def usage_args(usage_files, no_usage, window, date_from, date_to, prices_file=None, cost_centres_file=None) -> dict:
    """What the usage options asked for; usage files stand in for a live usage read."""
    return dict(usage_files=usage_files, no_usage=no_usage or bool(usage_files), window=window, date_from=date_from,
                date_to=date_to, prices_file=prices_file, cost_centres_file=cost_centres_file)



def usage_window(window: str | None, date_from: str | None, date_to: str | None) -> tuple[dt.date, dt.date]:
    """`--window 30d` is the 30 full days before today (the default); --from/--to override either end."""
    window = window or "30d"
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
        fail(str(exc) if "--window" in str(exc) else f"--from/--to must be dates like 2026-11-01 ({exc})")
    if start > end:
        fail(f"the usage window starts ({start}) after it ends ({end})")
    return start, end



def default_config() -> str | None:
    for name in (".aoai-audit.yaml", ".aoai-audit.yml"):
        if os.path.isfile(name):
            return name
    return None

