"""Score usage: tokens and money per consumer, the unknown bucket, unmetered traffic, reconciliation.

Pure: it takes rows already read (live or from a file), the estate and which accounts each API's backend
reaches, so live and exported usage give the same figures. Money is Decimal; nothing unpriced is ever
counted as zero, and no money figure is negative.

How a gateway call is priced (stated in the report, `basis`):
1. One record per call. A service may record a call twice, as token metrics and in its LLM log. Token
   metrics count (they carry the team dimension the policies configure); LLM-log rows of the same service,
   day and API are then not counted again, only used as that API's served-model mix (step 3).
2. A row that names its model (LLM log, or a file with a model column) is priced at that model's rate.
3. A row without a model (token metrics carry none) is priced by what served it: the models its API's
   calls were served by in the LLM log that day (exact), else the served mix of the account(s) the API's
   backend names, from the platform metrics that day (else over the window), else the whole platform's
   mix. From a platform mix the figure is a point estimate with a range: every token at the cheapest
   model that mix holds, to every token at the dearest. Batch deployments never enter a mix: they serve
   batch jobs at batch rates, not the live calls a gateway meters.
Every allocation lands on a line (day × bucket × consumer × account × deployment × model): the reconciled
figures the totals, the HTML, the JSON and the FOCUS export read. Per account, day and deployment:
unmetered = platform − gateway when positive; the rest is over-metered (KQ003), so
teams + unknown + unmetered − over-metered = platform total, in tokens and in money.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..estate import AiAccount, Deployment, Estate
from .costcentres import CostCentreMap
from .model import LLM_LOG_SOURCE, UNKNOWN_VALUES, DeploymentInfo, UsageData, UsageRow
from .prices import BATCH_TYPES, MILLION, Price, PriceTable, deployment_type, model_key

CENT = Decimal("0.01")
ZERO = Decimal(0)
CONSUMER, UNKNOWN, UNMETERED = "consumer", "unknown", "unmetered"
EXACT, API_LOG_MIX, ACCOUNT_MIX, PLATFORM_MIX, NO_MIX = (
    "model on the row", "the API's served models in its LLM log", "the served mix of the API's backend account(s)",
    "the whole platform's served mix (the API's backend account is not known)", "not priced: no model and no mix")
TOTAL_ONLY = "not priced: only a total (input and output are priced apart)"


def source_label(api: str, product: str) -> str:
    """Where unattributed tokens came through, as findings and reports name it."""
    return f"api '{api or '?'}'" + (f" via product '{product}'" if product else "")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Tally:
    tokens: int = 0
    money: Decimal = ZERO  # point estimate of the priced tokens
    unpriced_tokens: int = 0
    low: Decimal = ZERO  # range of the money: cheapest..dearest model of the mix (equal to money when exact)
    high: Decimal = ZERO

    def add(self, tokens: int, money: Decimal | None, low: Decimal | None = None, high: Decimal | None = None,
            unpriced: int | None = None) -> None:
        self.tokens += tokens
        if money is None:
            self.unpriced_tokens += tokens if unpriced is None else unpriced
            return
        self.unpriced_tokens += unpriced or 0
        self.money += money
        self.low += money if low is None else low
        self.high += money if high is None else high

    def absorb(self, other: Tally) -> None:
        self.tokens += other.tokens
        self.money += other.money
        self.unpriced_tokens += other.unpriced_tokens
        self.low += other.low
        self.high += other.high


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
    deployment: str  # "" : compared per account and day
    day: dt.date
    gateway_tokens: int
    platform_tokens: int
    account: str = ""

    @property
    def difference(self) -> int:
        return self.platform_tokens - self.gateway_tokens

    @property
    def share(self) -> float:
        base = max(self.platform_tokens, self.gateway_tokens)
        return abs(self.difference) / base if base else 0.0


@dataclass
class Line:
    """One reconciled figure: tokens and money of a day, bucket and consumer on one account, deployment, model."""

    day: dt.date
    bucket: str  # consumer, unknown, unmetered
    consumer: str
    dimension: str
    account: str  # account name ("" when no account is known)
    deployment: str
    model: str
    model_version: str
    deployment_type: str
    region: str
    input_tokens: Decimal = ZERO  # fractional where a mix split a row across models
    cached_input_tokens: Decimal = ZERO
    output_tokens: Decimal = ZERO
    money: Decimal | None = ZERO  # None: not priced
    low: Decimal | None = ZERO
    high: Decimal | None = ZERO
    basis: str = EXACT
    api: str = ""
    product: str = ""

    @property
    def tokens(self) -> Decimal:
        return self.input_tokens + self.output_tokens


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
    lines: list[Line] = field(default_factory=list)
    unmetered: Tally | None = None  # platform − gateway where positive (None: no platform figures)
    over_metered: Tally | None = None  # gateway − platform where positive
    basis: dict[str, int] = field(default_factory=dict)  # how gateway tokens were priced → tokens
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    files: tuple[str, ...] = ()  # the usage files read (empty for live usage)

    @property
    def base(self) -> Tally:
        """What every share is a share of: the platform total when known, else what the gateway metered."""
        return self.platform if self.platform is not None else self.gateway

    @property
    def base_label(self) -> str:
        return "platform tokens" if self.platform is not None else "gateway-metered tokens"

    def share(self, tally: Tally) -> float:
        return tally.tokens / self.base.tokens if self.base.tokens else 0.0

    def money_share(self, tally: Tally) -> float:
        return float(tally.money / self.base.money) if self.base.money else 0.0

    @property
    def unknown_share(self) -> float:
        return self.share(self.unknown)

    @property
    def unmetered_tokens(self) -> int | None:
        return None if self.unmetered is None else self.unmetered.tokens

    @property
    def unmetered_money(self) -> Decimal | None:
        return None if self.unmetered is None else self.unmetered.money


def _is_unknown(value: str | None, markers: frozenset[str]) -> bool:
    return value is None or value.strip().lower() in UNKNOWN_VALUES or value.strip().lower() in markers


# ------------------------------------------------------------------------------------------------ pricing


@dataclass(frozen=True)
class _Served:
    """A model as an account served it: where it lands and what it costs."""

    account: str
    deployment: str
    model: str
    version: str
    dtype: str
    region: str
    price: Price | None
    reason: str = ""  # why price is None


class _Pricer:
    """Find each row's model, version, deployment type, region and account (row first, then the estate)."""

    def __init__(self, estate: Estate, prices: PriceTable, exported: tuple[DeploymentInfo, ...] = ()):
        self.prices = prices
        self.by_deployment: dict[str, list[tuple[object, AiAccount]]] = defaultdict(list)
        accounts = list(estate.accounts)
        known = {a.name.lower() for a in accounts}
        for name in dict.fromkeys(d.account for d in exported if d.account.lower() not in known):
            # an exported deployments list stands in for accounts the estate does not hold
            accounts.append(AiAccount("", name, deployments=tuple(
                Deployment(d.name, d.model, d.model_version, d.sku) for d in exported if d.account == name)))
        self.accounts = {a.name.lower(): a for a in accounts}
        self.by_id = {a.resource_id.lower(): a for a in accounts if a.resource_id}
        for account in accounts:
            for d in account.deployments:
                self.by_deployment[d.name.lower()].append((d, account))
        self.missing: dict[tuple[str, str, str, str], dict] = {}
        self.platform_accounts: dict[str, set[str]] = defaultdict(set)  # deployment → accounts the platform names

    def served(self, row: UsageRow) -> _Served:
        pairs = self.by_deployment.get(row.deployment.lower(), []) if row.deployment else []
        named = self.accounts.get(row.account.lower()) if row.account else None
        dep, account = next(((d, a) for d, a in pairs if named is None or a is named), (None, named))
        if account is None and len(pairs) > 1 and row.region:
            dep, account = next(((d, a) for d, a in pairs if a.location.lower().replace(" ", "") ==
                                 row.region.lower().replace(" ", "")), (None, None))
        model = row.model or (getattr(dep, "model", "") if dep else "")
        version = row.model_version or (getattr(dep, "model_version", "") if dep and
                                        (not row.model or getattr(dep, "model", "") == row.model) else "")
        dtype = deployment_type(row.deployment_type or (getattr(dep, "sku", "") if dep else "")) or "global"
        # the account's own region: the LLM log's Region is the gateway's, the platform rows carry the account's
        region = ((account.location if account else "") or row.region).lower().replace(" ", "")
        name = account.name if account is not None else row.account
        if not name and row.deployment and len(self.platform_accounts.get(row.deployment.lower(), ())) == 1:
            name = next(iter(self.platform_accounts[row.deployment.lower()]))  # the estate does not hold the account
        if not model:
            return _Served(name, row.deployment, "", version, dtype, region, None, "no model")
        if dtype == "provisioned":
            return _Served(name, row.deployment, model, version, dtype, region, None,
                           "provisioned throughput is billed per PTU hour, not per token")
        price = self.prices.find(model, version, dtype, region)
        return _Served(name, row.deployment, model, version, dtype, region, price, "" if price else "no price in the table")

    def miss(self, s: _Served, tokens: int, source: str, reason: str) -> None:
        entry = self.missing.setdefault((s.model, s.version, s.dtype, s.region),
                                        {"gateway": 0, "platform": 0, "reason": reason})
        entry[source] += tokens


@dataclass
class _Mix:
    """Served models with their input and output weights; a gateway row is split across them."""

    parts: dict[_Served, list[Decimal]] = field(default_factory=dict)  # served → [input, output]
    basis: str = ACCOUNT_MIX

    def add(self, served: _Served, input_tokens: int, output_tokens: int) -> None:
        w = self.parts.setdefault(served, [ZERO, ZERO])
        w[0] += input_tokens
        w[1] += output_tokens

    def __bool__(self) -> bool:
        return any(w[0] or w[1] for w in self.parts.values())

    def serving(self, output_tokens: int) -> _Mix:
        """A call that produced output was served by a model that produces output (not an embedding model)."""
        if not output_tokens:
            return self
        kept = {s: w for s, w in self.parts.items() if w[1]}
        return _Mix(kept, self.basis) if kept else self

    def split(self, i: int, c: int, o: int) -> list[tuple[_Served, Decimal, Decimal, Decimal]]:
        total_in = sum((w[0] for w in self.parts.values()), ZERO)
        total_out = sum((w[1] for w in self.parts.values()), ZERO)
        out = []
        for served, (wi, wo) in sorted(self.parts.items(), key=lambda kv: _served_key(kv[0])):
            si = wi / total_in if total_in else (wo / total_out if total_out else ZERO)
            so = wo / total_out if total_out else si
            if si or so:
                out.append((served, i * si, c * si, o * so))
        return out


def _served_key(s: _Served) -> tuple[str, ...]:
    return (s.account, s.deployment.lower(), model_key(s.model), s.version, s.dtype, s.region)


def _cost(price: Price, i: Decimal, c: Decimal, o: Decimal) -> Decimal:
    return price.cost(i, c, o)


def _range(mix: _Mix, i: Decimal, c: Decimal, o: Decimal) -> tuple[Decimal, Decimal] | None:
    """Every token at the cheapest rate the priced models of the mix charge for its kind (input, cached input,
    output), and at the dearest: bounds whatever the split between the models was."""
    prices = [s.price for s in mix.parts if s.price is not None]
    if not prices:
        return None
    cached = min(c, i)
    rates = [(p.input, p.cached_input if p.cached_input is not None else p.input, p.output) for p in prices]
    low = ((i - cached) * min(r[0] for r in rates) + cached * min(r[1] for r in rates) + o * min(r[2] for r in rates))
    high = ((i - cached) * max(r[0] for r in rates) + cached * max(r[1] for r in rates) + o * max(r[2] for r in rates))
    return low / MILLION, high / MILLION


# ------------------------------------------------------------------------------------------------ scoring


class _Scorer:
    def __init__(self, usage: UsageData, estate: Estate, prices: PriceTable,
                 api_accounts: Mapping[tuple[str, str], frozenset[str]]):
        self.pricer = _Pricer(estate, prices, usage.deployments)
        self.api_accounts = {(s.lower(), a.lower()): {self._account_name(x) for x in v}
                             for (s, a), v in api_accounts.items()}
        self.lines: dict[tuple, Line] = {}
        self.platform_served: dict[tuple[dt.date, _Served], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.day_mix: dict[tuple[dt.date, str], _Mix] = defaultdict(_Mix)  # (day, account) → mix
        self.window_mix: dict[str, _Mix] = defaultdict(_Mix)
        self.api_mix: dict[tuple[str, str, dt.date | None], _Mix] = defaultdict(lambda: _Mix(basis=API_LOG_MIX))
        self.usage = usage

    def _account_name(self, rid: str) -> str:
        account = self.pricer.by_id.get(rid.lower())
        return account.name if account is not None else rid.rsplit("/", 1)[-1]

    # platform -----------------------------------------------------------------------------------------
    def read_platform(self) -> None:
        for row in self.usage.platform:
            if row.account and row.deployment:
                self.pricer.platform_accounts[row.deployment.lower()].add(row.account)
        for row in self.usage.platform:
            served = self.pricer.served(row)
            acc = self.platform_served[(row.day, served)]
            acc[0] += row.input_tokens
            acc[1] += row.output_tokens
            acc[2] += row.total_tokens if not (row.input_tokens or row.output_tokens) else 0
            acc[3] += row.cached_input_tokens
            if served.dtype in BATCH_TYPES:
                continue  # batch jobs are not live calls: their models never price a gateway row (skus.py)
            self.day_mix[(row.day, served.account.lower())].add(served, row.input_tokens, row.output_tokens)
            self.window_mix[served.account.lower()].add(served, row.input_tokens, row.output_tokens)

    def mix_for(self, row: UsageRow) -> _Mix | None:
        for key in ((row.service.lower(), row.api.lower(), row.day), (row.service.lower(), row.api.lower(), None)):
            mix = self.api_mix.get(key)
            if mix:
                return mix
        accounts = self.api_accounts.get((row.service.lower(), row.api.lower()))
        basis = ACCOUNT_MIX
        if not accounts:
            accounts, basis = {a for _d, a in self.day_mix} | set(self.window_mix), PLATFORM_MIX
        for per_day in (True, False):
            mix = _Mix(basis=basis)
            for account in sorted(accounts, key=str.lower):
                source = self.day_mix.get((row.day, account.lower())) if per_day else self.window_mix.get(account.lower())
                for served, (wi, wo) in (source.parts.items() if source else ()):
                    mix.add(served, int(wi), int(wo))
            if mix:
                return mix
        return None

    # gateway ------------------------------------------------------------------------------------------
    def counted_gateway(self) -> tuple[list[UsageRow], int]:
        """Apply the precedence: token metrics count; LLM-log rows of the same service, day and API feed the
        API's mix only."""
        metered = {(r.service.lower(), r.day, r.api.lower()) for r in self.usage.gateway
                   if r.gateway_source != LLM_LOG_SOURCE}
        counted, dropped = [], 0
        for row in self.usage.gateway:
            if row.gateway_source == LLM_LOG_SOURCE:
                served = self.pricer.served(row)
                if served.model:
                    for key in ((row.service.lower(), row.api.lower(), row.day), (row.service.lower(), row.api.lower(), None)):
                        self.api_mix[key].add(served, row.input_tokens, row.output_tokens)
                if ((row.service.lower(), row.day, row.api.lower()) in metered
                        or (row.service.lower(), row.day, "") in metered):
                    dropped += row.tokens
                    continue
            counted.append(row)
        return counted, dropped

    def place(self, row: UsageRow, bucket: str, consumer: str, dimension: str) -> tuple[Decimal | None, Decimal,
                                                                                          Decimal, int, str]:
        """Allocate a gateway row to lines; its money (None when nothing of it is priced), range, unpriced tokens
        and pricing basis."""
        served = self.pricer.served(row)
        i, c, o = row.input_tokens, row.cached_input_tokens, row.output_tokens
        if not row.tokens:
            return ZERO, ZERO, ZERO, 0, EXACT if served.model else NO_MIX
        if not (i or o):  # only a total: input and output are priced apart
            if served.model:
                self.pricer.miss(served, row.tokens, "gateway", "only a total: input and output are priced apart")
            self._line(row, bucket, consumer, dimension, served, ZERO, ZERO, Decimal(row.tokens), None, None, None,
                       TOTAL_ONLY)
            return None, ZERO, ZERO, row.tokens, TOTAL_ONLY
        if served.model:
            parts, basis, rng = [(served, Decimal(i), Decimal(c), Decimal(o))], EXACT, None
        else:
            mix = self.mix_for(row)
            mix = mix.serving(o) if mix is not None else None
            if mix is None:
                self._line(row, bucket, consumer, dimension, served, Decimal(i), Decimal(c), Decimal(o), None, None,
                           None, NO_MIX)
                return None, ZERO, ZERO, row.tokens, NO_MIX
            parts, basis = mix.split(i, c, o), mix.basis
            priced = [(pi, pc, po) for s, pi, pc, po in parts if s.price is not None]
            rng = _range(mix, sum((p[0] for p in priced), ZERO), sum((p[1] for p in priced), ZERO),
                         sum((p[2] for p in priced), ZERO))
        money, unpriced = ZERO, ZERO
        priced_any = False
        for s, pi, pc, po in parts:
            if s.price is None:
                unpriced += pi + po
                self.pricer.miss(s, round(pi + po), "gateway", s.reason)
                self._line(row, bucket, consumer, dimension, s, pi, pc, po, None, None, None, basis)
                continue
            priced_any = True
            m = _cost(s.price, pi, pc, po)
            money += m
            self._line(row, bucket, consumer, dimension, s, pi, pc, po, m, m, m, basis)
        low, high = (rng if rng is not None and basis != EXACT and basis != API_LOG_MIX else (money, money))
        low, high = min(low, money), max(high, money)  # Decimal rounding of the split must not leave the range
        return (money if priced_any else None), low, high, round(unpriced), basis

    def _line(self, row: UsageRow, bucket: str, consumer: str, dimension: str, s: _Served, i: Decimal, c: Decimal,
              o: Decimal, money: Decimal | None, low: Decimal | None, high: Decimal | None, basis: str) -> None:
        key = (row.day, bucket, dimension, consumer, row.api, row.product, *_served_key(s), basis)
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = Line(row.day, bucket, consumer, dimension, s.account, s.deployment, s.model,
                                          s.version, s.dtype, s.region, basis=basis, api=row.api, product=row.product)
        line.input_tokens += i
        line.cached_input_tokens += c
        line.output_tokens += o
        for attr, value in (("money", money), ("low", low), ("high", high)):
            current = getattr(line, attr)
            setattr(line, attr, None if value is None or current is None else current + value)

    # unmetered ----------------------------------------------------------------------------------------
    def unmetered(self) -> tuple[Tally, Tally, Tally, list[Reconciliation]]:
        """Per day, account, deployment and model: the platform's tokens and money, and platform − gateway;
        positive is unmetered, negative over-metered. The platform metrics have no cached count: input tokens
        the gateway saw as cached are cached on the platform too, the rest is priced in full (an upper bound)."""
        gateway: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])  # in, cached, out, money
        for line in self.lines.values():
            if line.bucket == UNMETERED:
                continue
            key = (line.day, line.account.lower(), line.deployment.lower(), model_key(line.model), line.model_version,
                   line.deployment_type, line.region)
            g = gateway[key]
            g[0] += line.input_tokens
            g[1] += line.cached_input_tokens
            g[2] += line.output_tokens
            g[3] += line.money or ZERO
        platform, unmetered, over = Tally(), Tally(), Tally()
        per_account: dict[tuple[str, dt.date], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        seen = set()
        diffs: list[tuple[Decimal, Decimal, bool]] = []  # per key: platform − gateway tokens, money; unpriced
        for (day, s), (pi, po, total_only, pc) in sorted(self.platform_served.items(), key=lambda kv: (kv[0][0],
                                                                                                   _served_key(kv[0][1]))):
            key = (day, s.account.lower(), s.deployment.lower(), model_key(s.model), s.version, s.dtype, s.region)
            seen.add(key)
            gi, gc, go, gm = gateway.get(key, [ZERO, ZERO, ZERO, ZERO])
            per_account[(s.account, day)][0] += gi + go
            per_account[(s.account, day)][1] += pi + po + total_only
            di, do = Decimal(pi) - gi, Decimal(po) - go
            pc = max(Decimal(pc), min(gc, Decimal(pi)))
            platform_money = _cost(s.price, Decimal(pi), pc, Decimal(po)) if s.price and not total_only else None
            if platform_money is None and s.model:
                reason = s.reason if s.price is None else "only a total: input and output are priced apart"
                self.pricer.miss(s, pi + po + total_only, "platform", reason)
            platform.add(pi + po + total_only, platform_money)
            tokens = di + do + total_only
            if platform_money is None:  # nothing here is priced on the platform: gateway money here is over
                money_diff = -gm
            else:
                money_diff = platform_money - gm
            up = max(money_diff, ZERO) if platform_money is not None else None
            if tokens > 0:
                fake = UsageRow(day=day, api="", product="")
                self._line(fake, UNMETERED, "", "", s, max(di, ZERO), max(pc - gc, ZERO), max(do, ZERO) + total_only,
                           up, up, up, "platform metrics")
            diffs.append((tokens, money_diff, platform_money is None))
        for key, (gi, _gc, go, gm) in gateway.items():  # gateway tokens on models the platform never reported
            if key in seen:
                continue
            per_account[(key[1], key[0])][0] += gi + go
            diffs.append((-(gi + go), -gm, gm == 0))
        # Positive differences are unmetered, negative ones over-metered, each summed exactly: so
        # teams + unknown + unmetered − over-metered = platform, in tokens and money, and none is negative.
        over_tokens = round(sum((-t for t, _m, _u in diffs if t < 0), ZERO))
        over_money = sum((-m for _t, m, _u in diffs if m < 0), ZERO)
        gateway_tokens = sum((g[0] + g[2] for g in gateway.values()), ZERO)
        unmetered.tokens = int(platform.tokens - round(gateway_tokens) + over_tokens)
        unmetered.money = unmetered.low = unmetered.high = sum((m for _t, m, _u in diffs if m > 0), ZERO)
        unmetered.unpriced_tokens = round(sum((t for t, _m, unpriced in diffs if t > 0 and unpriced), ZERO))
        over.tokens, over.money, over.low, over.high = over_tokens, over_money, over_money, over_money
        over.unpriced_tokens = round(sum((-t for t, _m, unpriced in diffs if t < 0 and unpriced), ZERO))
        recs = [Reconciliation("", day, round(g), round(p), account)
                for (account, day), (g, p) in sorted(per_account.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
        return platform, unmetered, over, recs


def score_usage(
    usage: UsageData,
    estate: Estate,
    prices: PriceTable,
    cost_centres: CostCentreMap | None = None,
    dimension_markers: dict[str, tuple[str, ...]] | None = None,
    api_accounts: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> UsageSummary:
    markers = {k.lower(): tuple(v) for k, v in (dimension_markers or {}).items()}
    scorer = _Scorer(usage, estate, prices, api_accounts or {})
    notes = list(usage.notes)
    daily: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"attributed": 0, "unknown": 0, "platform": 0})

    if usage.platform:
        scorer.read_platform()
        for row in usage.platform:
            daily[row.day]["platform"] += row.tokens

    counted, dropped = scorer.counted_gateway()
    if dropped:
        notes.append(f"{dropped:,} tokens in the LLM log were not counted again: the same calls were metered by "
                     "token metrics (precedence: token metrics, which carry the team; the LLM log gives the model)")
    gateway, unknown = Tally(), Tally()
    consumers: dict[tuple[str, str], Consumer] = {}
    unknown_sources: dict[tuple[str, str], int] = defaultdict(int)
    basis: dict[str, int] = defaultdict(int)
    streamed = cached = reasoning = 0
    for row in counted:
        dim_markers = frozenset(m.lower() for m in markers.get(row.dimension.lower(), ()))
        is_unknown = _is_unknown(row.consumer, dim_markers)
        bucket = UNKNOWN if is_unknown else CONSUMER
        money, low, high, unpriced, how = scorer.place(row, bucket, "" if is_unknown else (row.consumer or ""),
                                                       row.dimension)
        basis[how] += row.tokens
        gateway.add(row.tokens, money, low, high, unpriced)
        streamed += row.streamed_tokens
        cached += row.cached_input_tokens
        reasoning += row.reasoning_tokens
        if is_unknown:
            unknown.add(row.tokens, money, low, high, unpriced)
            daily[row.day]["unknown"] += row.tokens
            unknown_sources[(row.api, row.product)] += row.tokens
            continue
        daily[row.day]["attributed"] += row.tokens
        key = (row.dimension, row.consumer or "")
        consumer = consumers.get(key)
        if consumer is None:
            consumer = consumers[key] = Consumer(row.consumer or "", row.dimension)
        consumer.tally.add(row.tokens, money, low, high, unpriced)
        if row.api:
            consumer.apis[row.api] = consumer.apis.get(row.api, 0) + row.tokens
        if cost_centres is not None and consumer.cost_centre is None:
            entry = cost_centres.lookup(row)
            if entry is not None:
                consumer.cost_centre, consumer.owner = entry.cost_centre, entry.owner
    for how in (ACCOUNT_MIX, PLATFORM_MIX):
        if basis.get(how):
            notes.append(f"{basis[how]:,} gateway tokens carried no model; they are priced by {how} (point estimate; "
                         "the range prices every token at the cheapest and at the dearest model of that mix)")
    if basis.get(NO_MIX):
        notes.append(f"{basis[NO_MIX]:,} gateway tokens carried no model and no served mix is known: not priced")
    if usage.platform or any(r.input_tokens and not r.cached_input_tokens for r in counted):
        notes.append("input tokens without a cached count (platform metrics, LLM log, token metrics without a cached "
                     "category) are priced at the full input rate: an upper bound where prompts were cached")
    if usage.platform and not gateway.tokens:
        notes.append("the gateway usage is empty while the platform served tokens: gateway usage is unknown, not zero")

    platform = unmetered = over = None
    reconciliation: list[Reconciliation] = []
    if usage.platform:
        platform, unmetered, over, reconciliation = scorer.unmetered()

    centres: dict[str, Tally] | None = None
    unmapped: list[Consumer] = []
    ordered = sorted(consumers.values(), key=lambda c: (-c.tally.tokens, c.value))
    if cost_centres is not None:
        centres = defaultdict(Tally)
        for c in ordered:
            if c.cost_centre is None:
                unmapped.append(c)
            else:
                centres[c.cost_centre].absorb(c.tally)
        centres = dict(centres)

    pricer = scorer.pricer
    unpriced_list = sorted(
        (Unpriced(m, v, t, r, e["gateway"] or e["platform"], e["reason"], "gateway" if e["gateway"] else "platform")
         for (m, v, t, r), e in pricer.missing.items()),
        key=lambda u: (-u.tokens, u.model),
    )
    files = tuple(o for o in usage.origin.split(" + ") if o and not o.startswith("live"))
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
        unpriced=unpriced_list,
        cost_centres=centres,
        unmapped=unmapped,
        notes=notes,
        billed={b.account: (Decimal(str(b.amount)), b.currency) for b in usage.billed},
        lines=sorted(scorer.lines.values(), key=lambda ln: (ln.day, ln.bucket, ln.dimension, ln.consumer, ln.account,
                                                            ln.deployment, ln.model, ln.api)),
        unmetered=unmetered,
        over_metered=over,
        basis=dict(basis),
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        files=files,
    )
