"""The ledger: the scored usage as lines (day × bucket × consumer × account × model), and those lines grouped
into whole-token, whole-cent rows that still add up to the total they state.

Every money figure below the totals reads these (each finding's exposure, the FOCUS export): the usage
summary's own reconciled lines, with each team's cost centre and owner, plus one line that takes back what
the gateway over-metered, so the lines add up to the platform total (teams + unknown + unmetered −
over-metered), or to the gateway total when no platform figures were given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .tally import CENT, CONSUMER, OVER_METERED, ZERO, LedgerLine, UsageSummary, cents


def build_ledger(summary: UsageSummary) -> tuple[LedgerLine, ...]:
    """The summary's lines as the ledger holds them; built once, by the usage phase."""
    centres = {(c.dimension, c.value): (c.cost_centre or "", c.owner) for c in summary.consumers}
    lines = []
    for line in summary.lines:
        centre, owner = centres.get((line.dimension, line.consumer), ("", "")) if line.bucket == CONSUMER else ("", "")
        lines.append(LedgerLine(line.day, line.bucket, line.consumer, line.dimension, line.account, line.deployment,
                                line.model, line.model_version, line.region, Decimal(line.tokens), line.money,
                                line.basis, line.api, line.product, centre, owner, line.ptu_hours))
    over = summary.over_metered
    if over is not None and (over.tokens or cents(over.money)):  # a rounding residue is no line of its own
        lines.append(LedgerLine(None, OVER_METERED, "", "", "", "", "", "", "", -Decimal(over.tokens), -over.money,
                                "gateway tokens above what the platform reported (KQ003)"))
    return tuple(lines)


def total(lines: Sequence[LedgerLine]) -> tuple[Decimal, Decimal]:
    """Tokens and priced money of the lines: what the rows of an export must add up to."""
    return (sum((line.tokens for line in lines), ZERO), sum((line.money or ZERO for line in lines), ZERO))


@dataclass(frozen=True)
class LedgerRow:
    """Ledger lines that share a day, bucket, consumer, account, model and API, in whole tokens and cents."""

    day: dt.date | None
    bucket: str
    dimension: str
    consumer: str
    cost_centre: str
    owner: str
    account: str
    deployment: str
    model: str
    model_version: str
    region: str
    priced: bool
    tokens: Decimal  # whole tokens
    money: Decimal  # cents (0 when not priced)
    apis: tuple[str, ...]  # the API its lines came through (none for platform-only lines)
    bases: tuple[str, ...]  # how its lines were priced, sorted
    ptu_hours: Decimal | None = None  # reserved PTU-hours its money prices (a provisioned deployment); None: tokens

    @property
    def api(self) -> str:
        """The API the row came through: what the attribution model classifies a gateway row by when its account
        is not in the estate (auditor/attribution/money.py classify)."""
        return self.apis[0] if self.apis else ""


def _allocate(values: list[Decimal], target: Decimal, unit: Decimal) -> list[Decimal]:
    """Round each value to `unit` so that the rounded values add up to `target` exactly (largest remainder):
    the lines split rows across a served mix in exact fractions; rows of cents and whole tokens must still
    add up to the total they state."""
    rounded = [v.quantize(unit, rounding=ROUND_HALF_UP) for v in values]
    steps = int(((target - sum(rounded, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(values)), key=lambda i: (values[i] - rounded[i]) * (1 if steps > 0 else -1), reverse=True)
    for i in order[:abs(steps)]:
        rounded[i] += unit if steps > 0 else -unit
    return rounded


def _hours(members: Sequence[LedgerLine]) -> Decimal | None:
    """The PTU-hours a row's money prices; None unless every line of it is priced by reserved hours (a deployment is
    provisioned or not, so a row never mixes the two)."""
    hours = [m.ptu_hours for m in members]
    return None if any(h is None for h in hours) else sum((h for h in hours if h is not None), Decimal(0))


def _row_key(line: LedgerLine) -> tuple:
    """A row per API too: a finding's figure is then a sum of whole rows (auditor/exposure.py), so a gap's cents
    are the same cents the table and the FOCUS file show, never a subset rounded on its own."""
    return (line.day, line.bucket, line.dimension, line.consumer, line.cost_centre, line.owner, line.account,
            line.deployment, line.model, line.model_version, line.region, line.money is not None, line.api)


def ledger_rows(summary: UsageSummary) -> list[LedgerRow]:
    """The ledger grouped into rows, in a stable order (by day, teams first), adding up to the base total:
    the platform's when known, else the gateway's, to the token and to the cent."""
    groups: dict[tuple, list[LedgerLine]] = defaultdict(list)
    for line in summary.ledger:
        groups[_row_key(line)].append(line)
    keys = sorted(groups, key=lambda k: (k[0] or dt.date.min, k[1] != CONSUMER, *(str(x) for x in k[1:])))
    exact_tokens = [sum((m.tokens for m in groups[k]), Decimal(0)) for k in keys]
    exact_money = [sum((m.money for m in groups[k] if m.money is not None), Decimal(0)) for k in keys]
    base = summary.base
    all_tokens = _allocate(exact_tokens, Decimal(base.tokens), Decimal(1))
    all_money = _allocate(exact_money, base.money.quantize(CENT, rounding=ROUND_HALF_UP), CENT)
    rows = []
    for key, tokens, money in zip(keys, all_tokens, all_money, strict=True):
        first, members = groups[key][0], groups[key]
        rows.append(LedgerRow(first.day, first.bucket, first.dimension, first.consumer, first.cost_centre, first.owner,
                              first.account, first.deployment, first.model, first.model_version, first.region,
                              first.money is not None, tokens, money,
                              tuple(sorted({m.api for m in members if m.api})), tuple(sorted({m.basis for m in members})),
                              _hours(members)))
    return rows


def row_cents(summary: UsageSummary) -> dict[tuple[str, ...], Decimal]:
    """Cents per bucket, per consumer (bucket, dimension, value) and per cost centre ("cost centre", name),
    summed from the rows: the figures the HTML table, the JSON and the FOCUS file show and the findings that
    price a whole bucket or a consumer quote, so a team's money is the same to the cent everywhere."""
    out: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in ledger_rows(summary):
        out[(row.bucket,)] += row.money
        if row.bucket == CONSUMER:
            out[(row.bucket, row.dimension, row.consumer)] += row.money
            out[("cost centre", row.cost_centre)] += row.money
    return out
