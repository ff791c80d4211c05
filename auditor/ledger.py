"""The scored usage as ledger lines: day × bucket × consumer × account × model, with tokens and money.

One reader for everything that needs money below the totals (each finding's exposure, the FOCUS export).
It adapts what auditor/usage exposes and prices nothing itself: the usage summary's own reconciled lines
(`UsageSummary.lines`), with each team's cost centre and owner, plus one line that takes back what the gateway
over-metered, so the lines add up to the platform total (teams + unknown + unmetered − over-metered), or to the
gateway total when no platform figures were given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .context import AuditContext
from .usage.score import CONSUMER, UNKNOWN, UNMETERED

OVER_METERED = "over-metered"
__all__ = ["CONSUMER", "OVER_METERED", "UNKNOWN", "UNMETERED", "LedgerLine", "ledger", "total"]
ZERO = Decimal(0)


@dataclass(frozen=True)
class LedgerLine:
    day: dt.date | None  # None: a window-wide figure (the summary gives no day for it)
    bucket: str  # consumer, unknown, unmetered, over-metered
    consumer: str
    dimension: str
    account: str
    deployment: str
    model: str
    model_version: str
    region: str
    tokens: Decimal  # fractional only where the usage layer split a row across a served mix
    money: Decimal | None  # None: not priced (KQ004); never counted as zero
    basis: str  # how the money was found
    api: str = ""
    product: str = ""
    cost_centre: str = ""
    owner: str = ""


def ledger(ctx: AuditContext) -> tuple[LedgerLine, ...]:
    """The usage of the audit as lines; empty when no usage was given."""
    summary = ctx.usage
    if summary is None:
        return ()
    centres = {(c.dimension, c.value): (c.cost_centre or "", c.owner) for c in summary.consumers}
    lines = []
    for line in summary.lines:
        centre, owner = centres.get((line.dimension, line.consumer), ("", "")) if line.bucket == CONSUMER else ("", "")
        lines.append(LedgerLine(line.day, line.bucket, line.consumer, line.dimension, line.account, line.deployment,
                                line.model, line.model_version, line.region, Decimal(line.tokens), line.money,
                                line.basis, line.api, line.product, centre, owner))
    over = summary.over_metered
    if over is not None and (over.tokens or over.money):
        lines.append(LedgerLine(None, OVER_METERED, "", "", "", "", "", "", "", -Decimal(over.tokens), -over.money,
                                "gateway tokens above what the platform reported (KQ003)"))
    return tuple(lines)


def total(lines: Sequence[LedgerLine]) -> tuple[Decimal, Decimal]:
    """Tokens and priced money of the lines: what the rows of an export must add up to."""
    return (sum((line.tokens for line in lines), ZERO), sum((line.money or ZERO for line in lines), ZERO))
