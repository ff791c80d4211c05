"""The `aoai-audit` command line. Exit codes: 0 gate passed, 1 findings at/above threshold, 2 usage error
or nothing could be audited.

Each command imports what it needs when it runs: `--version`, `rules` or a pre-commit run on one file must
not pay for the engine, the usage and price tables, urllib, YAML or the Azure SDKs (benchmarks/bench_startup.py).
`python -m aoai_audit.cli` runs `__main__`, which goes through `entry` like the console script.
"""

from __future__ import annotations

import click

from .. import __version__
from .catalogue import docs, explain, list_rules, prices
from .commands import collect, diff, kql
from .fix import fix
from .scan import scan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aoai-audit")  # entry.py answers a lone --version the same way
@click.option("--log-level", type=click.Choice(["warning", "info", "debug"]), default="warning", show_default=True,
              help="Log to stderr (secrets are redacted from every record, the Azure SDKs' included).")
def main(log_level: str) -> None:
    """Find the holes in per-team cost attribution for Azure OpenAI behind API Management."""
    from ..logs import configure

    configure(log_level)


for command in (scan, fix, diff, collect, kql, prices, list_rules, explain, docs):
    main.add_command(command)
