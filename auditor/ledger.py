"""The scored usage as ledger lines: day × bucket × consumer × account × model, with tokens and money.

One reader for everything that needs money below the totals (each finding's exposure, the FOCUS export).
It adapts what auditor/usage exposes and prices nothing itself: when the usage summary carries its own
reconciled lines (`UsageSummary.lines`), those are used as they are; otherwise each gateway row and each
platform key is scored with `score_usage` on its own, so every figure is the one the totals are made of.
Lines add up to the platform total (teams + unknown + unmetered − over-metered), or to the gateway total when
no platform figures were given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .context import AuditContext
from .usage.model import UsageData, UsageRow
from .usage.score import UsageSummary, score_usage

CONSUMER, UNKNOWN, UNMETERED, OVER_METERED = "consumer", "unknown", "unmetered", "over-metered"
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
    if summary is None or ctx.estate.usage is None:
        return ()
    centres = {(c.dimension, c.value): (c.cost_centre or "", c.owner) for c in summary.consumers}
    own = getattr(summary, "lines", None)
    lines = _from_summary(summary, own) if own else _by_row(ctx, summary, ctx.estate.usage)
    return tuple(
        LedgerLine(**{**line.__dict__, "cost_centre": centres.get((line.dimension, line.consumer), ("", ""))[0],
                      "owner": centres.get((line.dimension, line.consumer), ("", ""))[1]})
        if line.bucket == CONSUMER else line
        for line in lines
    )


def _from_summary(summary: UsageSummary, own: Sequence) -> list[LedgerLine]:
    """The usage layer's own reconciled lines, plus one line that takes back what the gateway over-metered."""
    out = [LedgerLine(line.day, line.bucket, line.consumer, line.dimension, line.account, line.deployment,
                      line.model, line.model_version, line.region, Decimal(line.tokens), line.money, line.basis,
                      line.api, line.product) for line in own]
    over = getattr(summary, "over_metered", None)
    if over is not None and (over.tokens or over.money):
        out.append(LedgerLine(None, OVER_METERED, "", "", "", "", "", "", "", -Decimal(over.tokens), -over.money,
                              "gateway tokens above what the platform reported (KQ003)"))
    return out


def _by_row(ctx: AuditContext, summary: UsageSummary, usage: UsageData) -> list[LedgerLine]:
    """Score each gateway row (with its day's platform rows, which set any blended rate) and each platform key
    on its own: the same figures score_usage sums into the totals, one line each."""
    from .usage.kql import dimension_markers
    from .usage.prices import shipped_prices

    prices = ctx.settings.prices or shipped_prices()
    markers = dimension_markers(ctx)
    accounts = {d.name.lower(): a.name for a in ctx.estate.accounts for d in a.deployments}

    def score(rows: Sequence[UsageRow]) -> UsageSummary:
        return score_usage(UsageData(rows=tuple(rows), window=usage.window), ctx.estate, prices, None, markers)

    platform = usage.platform
    per_deployment = bool(usage.gateway) and all(r.deployment for r in usage.gateway)

    def key(row: UsageRow) -> tuple[dt.date, str]:
        return (row.day, row.deployment.lower() if per_deployment else "")

    by_day: dict[dt.date, list[UsageRow]] = defaultdict(list)
    by_key: dict[tuple[dt.date, str], list[UsageRow]] = defaultdict(list)
    for row in platform:
        by_day[row.day].append(row)
        by_key[key(row)].append(row)
    lines: list[LedgerLine] = []
    metered: dict[tuple[dt.date, str], list] = defaultdict(lambda: [0, ZERO])
    for row in usage.gateway:
        s = score([row, *by_day.get(row.day, ())])
        money = None if s.gateway.unpriced_tokens else s.gateway.money
        bucket = UNKNOWN if s.unknown.tokens else CONSUMER
        account = row.account or accounts.get(row.deployment.lower(), "")
        basis = "model on the row" if row.model else "the day's platform rate (the row names no model)"
        lines.append(LedgerLine(row.day, bucket, "" if bucket == UNKNOWN else (row.consumer or ""), row.dimension,
                                account, row.deployment, row.model, row.model_version, row.region,
                                Decimal(row.tokens), money, basis if money is not None else "not priced",
                                row.api, row.product))
        if platform:
            m = metered[key(row)]
            m[0] += row.tokens
            m[1] += s.gateway.money
    if not platform:
        return lines
    for k in sorted(set(by_key) | set(metered)):
        rows = by_key.get(k, [])
        s = score(rows) if rows else None
        tokens = (s.platform.tokens if s else 0) - metered[k][0]
        money = (s.platform.money if s else ZERO) - metered[k][1]
        if not tokens and not money:
            continue
        first = rows[0] if rows else UsageRow(day=k[0], deployment=k[1])
        same = len({(r.account, r.model) for r in rows}) == 1
        lines.append(LedgerLine(
            k[0], UNMETERED if tokens >= 0 else OVER_METERED, "", "",
            (first.account or accounts.get(first.deployment.lower(), "")) if same else "several",
            first.deployment, first.model if same else "", first.model_version if same else "", first.region,
            Decimal(tokens), money, "platform metrics − gateway" if tokens >= 0 else "gateway above platform (KQ003)"))
    return lines


def total(lines: Sequence[LedgerLine]) -> tuple[Decimal, Decimal]:
    """Tokens and priced money of the lines: what the rows of an export must add up to."""
    return (sum((line.tokens for line in lines), ZERO), sum((line.money or ZERO for line in lines), ZERO))
