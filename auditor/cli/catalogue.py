"""`aoai-audit rules`, `explain`, `docs` and `prices`: the rule catalogue and the price table."""

from __future__ import annotations

import click

from .options import fail


@click.group()
def prices() -> None:
    """The token price table used to put money on usage."""



@prices.command("refresh")
@click.option("--output", "-o", required=True, help="Where to write the rebuilt table (JSON).")
@click.option("--endpoint", default=None, help="Retail Prices API URL (tests, mirrors).")
def prices_refresh(output: str, endpoint: str | None) -> None:
    """Rebuild the price table from the public Azure Retail Prices API (anonymous, read-only GETs)."""
    from ..usage.prices import RETAIL_PRICES_URL, RefreshError, refresh

    try:
        table = refresh(output, endpoint or RETAIL_PRICES_URL)
    except RefreshError as exc:
        fail(str(exc))
    except (OSError, ValueError) as exc:  # unreachable, or a body that is not JSON
        fail(f"cannot read the Retail Prices API at {endpoint or RETAIL_PRICES_URL}: {exc}")
    click.echo(f"aoai-audit: wrote {output}: {len(table.prices)} price(s) as of {table.as_of}", err=True)



@prices.command("show")
@click.option("--prices", "prices_file", type=click.Path(), help="Override file to apply over the shipped table.")
def prices_show(prices_file: str | None) -> None:
    """Print the price table in effect (per 1M tokens)."""
    from ..usage.prices import PriceFileError, load_prices, shipped_prices

    table = shipped_prices()
    if prices_file:
        try:
            table = table.overridden_by(load_prices(prices_file))
        except PriceFileError as exc:
            fail(str(exc))
    click.echo(f"# {table.source} · {table.currency} per 1M tokens")
    click.echo(f"{'model':28} {'version':8} {'type':10} {'region':14} {'input':>9} {'cached':>9} {'output':>9}")
    for p in table.prices:
        cached = "-" if p.cached_input is None else f"{p.cached_input:.4f}"
        click.echo(f"{p.model:28} {p.version or '*':8} {p.deployment_type:10} {p.region:14} {p.input:>9.4f} "
                   f"{cached:>9} {p.output:>9.4f}")



@click.command("rules")
def list_rules() -> None:
    """List the rule catalogue."""
    from ..rules import load_registry

    registry = load_registry()
    for check in registry.checks:
        r = check.rule
        provider = "" if check.provider == "aoai-audit" else f"  [{check.provider}]"
        click.echo(f"{r.id:7} {r.severity.value:7} {r.title}{provider}")
    for err in registry.errors:
        click.echo(f"warning: {err}", err=True)



@click.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Print a rule's rationale, detection and fix."""
    from ..docs import rule_markdown
    from ..rules import load_registry

    rule = load_registry().rule(rule_id)
    if rule is None:
        fail(f"unknown rule id {rule_id!r} (see `aoai-audit rules`)")
    click.echo(rule_markdown(rule))



@click.command()
@click.option("--output", "-o", default="docs/rules", show_default=True, help="Directory for the rule pages.")
def docs(output: str) -> None:
    """Generate the rule documentation pages from the rule metadata."""
    from ..docs import write_docs
    from ..rules import load_registry

    registry = load_registry()
    rules = [c.rule for c in registry.checks if c.provider == "aoai-audit"]
    for path in write_docs(rules, output):
        click.echo(path)

