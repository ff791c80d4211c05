"""Score usage: tokens and money per consumer, the unknown bucket, unmetered traffic, reconciliation.

Pure: it takes rows already read (live or from a file) and the estate, so live and exported usage give the
same figures. Money is Decimal; nothing unpriced is ever counted as zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..estate import Estate
from .costcentres import CostCentreMap
from .model import UNKNOWN_VALUES, UsageData, UsageRow
from .prices import PriceTable, deployment_type

CENT = Decimal("0.01")


def source_label(api: str, product: str) -> str:
    """Where unattributed tokens came through, as findings and reports name it."""
    return f"api '{api or '?'}'" + (f" via product '{product}'" if product else "")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Tally:
    tokens: int = 0
    money: Decimal = Decimal(0)
    unpriced_tokens: int = 0

    def add(self, tokens: int, money: Decimal | None) -> None:
        self.tokens += tokens
        if money is None:
            self.unpriced_tokens += tokens
        else:
            self.money += money


@dataclass
class Consumer:
    value: str
    dimension: str
    tally: Tally = field(default_factory=Tally)
    cost_centre: str | None = None
    owner: str = ""
    apis: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unpriced:
    model: str
    version: str
    deployment_type: str
    region: str
    tokens: int  # metered at the gateway (the platform's figure when the gateway saw none)
    reason: str
    source: str = "gateway"


@dataclass(frozen=True)
class Reconciliation:
    deployment: str  # "" when the gateway data has no deployment: compared per day
    day: dt.date
    gateway_tokens: int
    platform_tokens: int

    @property
    def difference(self) -> int:
        return self.platform_tokens - self.gateway_tokens

    @property
    def share(self) -> float:
        base = max(self.platform_tokens, self.gateway_tokens)
        return abs(self.difference) / base if base else 0.0


@dataclass
class UsageSummary:
    window: tuple[dt.date, dt.date] | None
    origin: str
    currency: str
    price_source: str
    consumers: list[Consumer]
    unknown: Tally
    unknown_sources: dict[tuple[str, str], int]  # (api, product) → tokens, most first
    unknown_markers: dict[str, tuple[str, ...]]  # dimension → the values counted as unknown
    gateway: Tally
    platform: Tally | None  # None: no platform figures were given
    streamed_tokens: int
    daily: dict[dt.date, dict[str, int]]  # day → attributed / unknown / platform tokens
    reconciliation: list[Reconciliation]
    unpriced: list[Unpriced]
    cost_centres: dict[str, Tally] | None  # None: no cost-centre map given
    unmapped: list[Consumer]
    notes: list[str]
    billed: dict[str, tuple[Decimal, str]] = field(default_factory=dict)  # account id → actual cost, currency

    @property
    def unknown_share(self) -> float:
        return self.unknown.tokens / self.gateway.tokens if self.gateway.tokens else 0.0

    @property
    def unmetered_tokens(self) -> int | None:
        return None if self.platform is None else self.platform.tokens - self.gateway.tokens

    @property
    def unmetered_money(self) -> Decimal | None:
        return None if self.platform is None else self.platform.money - self.gateway.money


def _is_unknown(value: str | None, markers: frozenset[str]) -> bool:
    return value is None or value.strip().lower() in UNKNOWN_VALUES or value.strip().lower() in markers


class _Pricer:
    """Find each row's model, version, deployment type and region (row first, then the estate) and price it."""

    def __init__(self, estate: Estate, prices: PriceTable):
        self.prices = prices
        self.deployments = {}
        for account in estate.accounts:
            for d in account.deployments:
                self.deployments.setdefault(d.name.lower(), (d, account))
        self.missing: dict[tuple[str, str, str, str], dict] = {}

    def describe(self, row: UsageRow) -> tuple[str, str, str, str]:
        dep, account = self.deployments.get(row.deployment.lower(), (None, None)) if row.deployment else (None, None)
        model = row.model or (dep.model if dep else "")
        version = row.model_version or (dep.model_version if dep and (not row.model or dep.model == row.model) else "")
        dtype = deployment_type(row.deployment_type or (dep.sku if dep else "")) or "global"
        region = row.region or (account.location if account else "")
        return model, version, dtype, region.lower().replace(" ", "")

    def price(self, row: UsageRow) -> tuple[Decimal | None, str]:
        """The row's cost (None: not priced) and the model it was found to be ("" when nothing says)."""
        model, version, dtype, region = self.describe(row)
        if not model or dtype == "provisioned":
            return None, model
        if not (row.input_tokens or row.output_tokens):
            self._miss((model, version, dtype, region), row, "only a total: input and output are priced apart")
            return None, model
        price = self.prices.find(model, version, dtype, region)
        if price is None:
            self._miss((model, version, dtype, region), row, "no price in the table")
            return None, model
        return price.cost(row.input_tokens, row.cached_input_tokens, row.output_tokens), model

    def _miss(self, key, row: UsageRow, reason: str) -> None:
        entry = self.missing.setdefault(key, {"gateway": 0, "platform": 0, "reason": reason})
        entry[row.source] += row.tokens


def score_usage(
    usage: UsageData,
    estate: Estate,
    prices: PriceTable,
    cost_centres: CostCentreMap | None = None,
    dimension_markers: dict[str, tuple[str, ...]] | None = None,
) -> UsageSummary:
    markers = {k.lower(): tuple(v) for k, v in (dimension_markers or {}).items()}
    pricer = _Pricer(estate, prices)
    notes = list(usage.notes)

    platform_rate: dict[dt.date, tuple[Decimal, int]] = {}
    platform: Tally | None = None
    platform_by_key: dict[tuple[str, dt.date], int] = defaultdict(int)
    daily: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"attributed": 0, "unknown": 0, "platform": 0})
    if usage.platform:
        platform = Tally()
        for row in usage.platform:
            money, _ = pricer.price(row)
            platform.add(row.tokens, money)
            platform_by_key[(row.deployment.lower(), row.day)] += row.tokens
            daily[row.day]["platform"] += row.tokens
            if money is not None:
                m, t = platform_rate.get(row.day, (Decimal(0), 0))
                platform_rate[row.day] = (m + money, t + row.tokens)

    gateway, unknown = Tally(), Tally()
    consumers: dict[tuple[str, str], Consumer] = {}
    unknown_sources: dict[tuple[str, str], int] = defaultdict(int)
    gateway_by_key: dict[tuple[str, dt.date], int] = defaultdict(int)
    blended = 0
    streamed = 0
    for row in usage.gateway:
        money, model = pricer.price(row)
        if money is None and not model and row.day in platform_rate:
            m, t = platform_rate[row.day]
            money = m * row.tokens / t if t else None
            blended += row.tokens
        gateway.add(row.tokens, money)
        streamed += row.streamed_tokens
        gateway_by_key[(row.deployment.lower(), row.day)] += row.tokens
        dim_markers = frozenset(m.lower() for m in markers.get(row.dimension.lower(), ()))
        if _is_unknown(row.consumer, dim_markers):
            unknown.add(row.tokens, money)
            daily[row.day]["unknown"] += row.tokens
            unknown_sources[(row.api, row.product)] += row.tokens
            continue
        daily[row.day]["attributed"] += row.tokens
        key = (row.dimension, row.consumer or "")
        consumer = consumers.get(key)
        if consumer is None:
            consumer = consumers[key] = Consumer(row.consumer or "", row.dimension)
        consumer.tally.add(row.tokens, money)
        if row.api:
            consumer.apis[row.api] = consumer.apis.get(row.api, 0) + row.tokens
        if cost_centres is not None and consumer.cost_centre is None:
            entry = cost_centres.lookup(row)
            if entry is not None:
                consumer.cost_centre, consumer.owner = entry.cost_centre, entry.owner
    if blended:
        notes.append(f"{blended:,} gateway tokens carried no model; they are priced at the day's platform rate")

    reconciliation: list[Reconciliation] = []
    if platform is not None:
        per_deployment = all(k[0] for k in gateway_by_key) and bool(gateway_by_key)
        if per_deployment:
            keys = sorted(set(gateway_by_key) | set(platform_by_key), key=lambda k: (k[1], k[0]))
            reconciliation = [Reconciliation(k[0], k[1], gateway_by_key.get(k, 0), platform_by_key.get(k, 0))
                              for k in keys]
        else:
            days = sorted({k[1] for k in gateway_by_key} | {k[1] for k in platform_by_key})
            g = defaultdict(int, {d: sum(v for k, v in gateway_by_key.items() if k[1] == d) for d in days})
            p = defaultdict(int, {d: sum(v for k, v in platform_by_key.items() if k[1] == d) for d in days})
            reconciliation = [Reconciliation("", d, g[d], p[d]) for d in days]

    centres: dict[str, Tally] | None = None
    unmapped: list[Consumer] = []
    ordered = sorted(consumers.values(), key=lambda c: (-c.tally.tokens, c.value))
    if cost_centres is not None:
        centres = defaultdict(Tally)
        for c in ordered:
            if c.cost_centre is None:
                unmapped.append(c)
            else:
                t = centres[c.cost_centre]
                t.tokens += c.tally.tokens
                t.money += c.tally.money
                t.unpriced_tokens += c.tally.unpriced_tokens
        centres = dict(centres)

    unpriced = sorted(
        (Unpriced(m, v, t, r, e["gateway"] or e["platform"], e["reason"], "gateway" if e["gateway"] else "platform")
         for (m, v, t, r), e in pricer.missing.items()),
        key=lambda u: (-u.tokens, u.model),
    )
    return UsageSummary(
        window=usage.window,
        origin=usage.origin,
        currency=prices.currency,
        price_source=f"{prices.source} (as of {prices.as_of})" if prices.as_of else prices.source,
        consumers=ordered,
        unknown=unknown,
        unknown_sources=dict(sorted(unknown_sources.items(), key=lambda kv: -kv[1])),
        unknown_markers={d: tuple(sorted(UNKNOWN_VALUES | {m.lower() for m in v})) for d, v in markers.items()},
        gateway=gateway,
        platform=platform,
        streamed_tokens=streamed,
        daily=dict(sorted(daily.items())),
        reconciliation=reconciliation,
        unpriced=unpriced,
        cost_centres=centres,
        unmapped=unmapped,
        notes=notes,
        billed={b.account: (Decimal(str(b.amount)), b.currency) for b in usage.billed},
    )
