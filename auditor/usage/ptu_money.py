"""PTU deployments in the money: what a provisioned deployment cost is its reserved hours, never its tokens.

"Regional Provisioned Throughput, Data Zone Provisioned Throughput, and Global Provisioned Throughput are billed
hourly based on the number of deployed PTUs" — used or not
(https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding). So over the
usage window a deployment costs PTUs × 24 × the PTU-hour price on every day of it (ptu.py), and that is split:

- on a day the deployment served tokens, the day's reserved cost goes to that day's lines (teams, the unknown bucket,
  traffic no gateway metered) by their share of its tokens: the callers of a day hold its capacity;
- a day it served no token at all is reserved capacity no team used: a line of its own (bucket `ptu-unused`).

Why days and not the utilisation percentage: Microsoft measures how much of a deployment's capacity is used with the
"Provisioned-managed Utilization V2" metric ((PTUs consumed / PTUs deployed) × 100, per minute:
https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/monitor-openai and
https://learn.microsoft.com/en-us/azure/azure-monitor/reference/supported-metrics/microsoft-cognitiveservices-accounts-metrics).
The usage the audit reads is tokens per day, which says which reserved hours served somebody and which served no
one, not how full a busy hour was; so the capacity left idle inside a day with traffic is charged to that day's
callers (who reserved it), and only whole days without a token are called unused. docs/attribution.md states this.

A deployment whose PTU count was not read, or with no PTU-hour price for its type and region, stays unpriced (its
lines keep no money, and an `Unpriced` entry names its PTU count): never USD 0.00, never a per-token price.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .ptu import PtuPrice, find_ptu
from .skus import classify_sku, is_provisioned
from .tally import PTU_UNUSED, ZERO, Line, Unpriced

PROVISIONED_TYPE = "provisioned"  # the deployment type prices.deployment_type() gives every provisioned SKU
HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class PtuDeployment:
    """A provisioned deployment as the money needs it."""

    account: str
    deployment: str
    sku: str
    region: str  # the account's ARM region
    ptus: int | None  # sku.capacity; None when not read
    model: str = ""
    version: str = ""


@dataclass
class PtuMoney:
    priced: list[tuple[Line, Decimal]] = field(default_factory=list)  # lines that took reserved cost, and how much
    unused: list[Line] = field(default_factory=list)  # one per deployment and day no team used it
    reserved: Decimal = ZERO  # every reserved hour of the priced deployments in the window
    priced_deployments: set[tuple[str, str]] = field(default_factory=set)  # (account, deployment), lower-case
    unpriced: list[Unpriced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ptu_deployments(accounts: Iterable) -> tuple[PtuDeployment, ...]:
    """The provisioned deployments of the accounts (estate accounts, or an exported deployments list)."""
    return tuple(PtuDeployment(a.name, d.name, d.sku, (a.location or "").lower().replace(" ", ""), d.capacity,
                               d.model, d.model_version)
                 for a in accounts for d in a.deployments if is_provisioned(d.sku))


def basis(dep: PtuDeployment, price: PtuPrice) -> str:
    return (f"reserved PTU-hours: {dep.ptus} PTU × 24 h × {price.hourly} per PTU-hour a day, split by the day's "
            "token share")


def _days(window: tuple[dt.date, dt.date] | None, seen: Iterable[dt.date]) -> list[dt.date]:
    days = set(seen)
    if window is not None:
        first, last = window
        days |= {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    return sorted(days)


def _why_unpriced(dep: PtuDeployment, prices: tuple[PtuPrice, ...], window) -> str | None:
    if window is None:
        return "no usage window is known, so its reserved hours cannot be counted"
    if dep.ptus is None:
        return "its PTU count (sku.capacity) was not read, so its reserved hours cannot be priced"
    if find_ptu(prices, dep.sku, dep.region) is None:
        cls = classify_sku(dep.sku)
        return (f"no PTU-hour price for {dep.sku} ({cls.scope if cls else '?'}) in {dep.region or 'its region'}: add "
                "a `ptu:` row (deployment_type, region, hourly) to a --prices file")
    return None


def price_ptu(lines: Iterable[Line], deployments: tuple[PtuDeployment, ...], prices: tuple[PtuPrice, ...],
              window: tuple[dt.date, dt.date] | None) -> PtuMoney:
    """Give every line on a provisioned deployment its share of the day's reserved cost (in place: the lines are the
    scorer's), and return the unused days as lines of their own. Lines of an unpriced deployment are left unpriced."""
    out = PtuMoney()
    mine: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for line in lines:
        if line.deployment_type == PROVISIONED_TYPE and line.bucket != PTU_UNUSED:
            mine[(line.account.lower(), line.deployment.lower())].append(line)
    for dep in deployments:
        key = (dep.account.lower(), dep.deployment.lower())
        its = mine.get(key, [])
        why = _why_unpriced(dep, prices, window)
        if why is not None:
            tokens = round(sum((ln.tokens for ln in its), ZERO))
            out.unpriced.append(Unpriced(dep.model or dep.deployment, dep.version, PROVISIONED_TYPE, dep.region, tokens,
                                         f"provisioned deployment '{dep.deployment}' of account '{dep.account}' "
                                         f"({dep.ptus if dep.ptus is not None else 'unknown'} PTU) is billed per "
                                         f"reserved PTU-hour, not per token; {why}",
                                         "platform"))
            for ln in its:
                ln.basis = f"not priced: provisioned ({dep.ptus if dep.ptus is not None else '?'} PTU), {why}"
            continue
        price = find_ptu(prices, dep.sku, dep.region)
        assert price is not None and dep.ptus is not None
        day_cost = Decimal(dep.ptus) * HOURS_PER_DAY * price.hourly
        by_day: dict[dt.date, list[Line]] = defaultdict(list)
        for ln in its:
            by_day[ln.day].append(ln)
        out.priced_deployments.add(key)
        idle = 0
        days = _days(window, by_day)
        for day in days:
            day_lines = by_day.get(day, [])
            served = sum((ln.tokens for ln in day_lines), ZERO)
            out.reserved += day_cost
            if not served:
                idle += 1
                out.unused.append(Line(day, PTU_UNUSED, "", "", dep.account, dep.deployment, dep.model, dep.version,
                                       PROVISIONED_TYPE, dep.region, money=day_cost, low=day_cost, high=day_cost,
                                       ptu_hours=Decimal(dep.ptus * HOURS_PER_DAY),
                                       basis=f"reserved PTU-hours no team used: {dep.ptus} PTU × 24 h × "
                                             f"{price.hourly} per PTU-hour on a day it served no token"))
                continue
            for ln in day_lines:
                share = day_cost * ln.tokens / served
                out.priced.append((ln, share))
                ln.money = ln.low = ln.high = share
                ln.ptu_hours = Decimal(dep.ptus * HOURS_PER_DAY) * ln.tokens / served
                ln.basis = basis(dep, price)
        out.notes.append(
            f"provisioned deployment '{dep.deployment}' of account '{dep.account}': {dep.ptus} PTU reserved for "
            f"{len(days) * HOURS_PER_DAY:,} hours at {price.hourly} per PTU-hour (as of {price.as_of or '?'}) = "
            f"{(day_cost * len(days)).quantize(Decimal('0.01'))}, billed used or not; split by token share on the "
            f"{len(days) - idle} day(s) it served tokens; {idle} day(s) no team used it (unused PTU capacity)")
    return out
