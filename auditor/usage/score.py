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
from decimal import Decimal

from ..estate import Estate
from .costcentres import CostCentreMap
from .fill import fill
from .model import LLM_LOG_SOURCE, UNKNOWN_VALUES, UsageData, UsageRow
from .prices import BATCH_TYPES, PriceTable
from .ptu_money import PROVISIONED_TYPE, PtuMoney, price_ptu, ptu_deployments
from .reconcile import reconcile
from .served import Mix, Pricer, Served, price_range, served_key
from .tally import (
    ACCOUNT_MIX,
    API_LOG_MIX,
    CONSUMER,
    EXACT,
    NO_MIX,
    PLATFORM_MIX,
    TOTAL_ONLY,
    UNKNOWN,
    UNMETERED,
    ZERO,
    Consumer,
    Line,
    Reconciliation,
    Tally,
    Unpriced,
    UsageSummary,
)


def _is_unknown(value: str | None, markers: frozenset[str]) -> bool:
    return value is None or value.strip().lower() in UNKNOWN_VALUES or value.strip().lower() in markers


class _Scorer:
    """Places every gateway row on lines (bucket × consumer × served model) with its money."""


    def __init__(self, usage: UsageData, estate: Estate, prices: PriceTable,
                 api_accounts: Mapping[tuple[str, str], frozenset[str]]):
        self.pricer = Pricer(estate, prices, usage.deployments)
        self.api_accounts = {(s.lower(), a.lower()): {self._account_name(x) for x in v}
                             for (s, a), v in api_accounts.items()}
        self.lines: dict[tuple, Line] = {}
        self.platform_served: dict[tuple[dt.date, Served], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.day_mix: dict[tuple[dt.date, str], Mix] = defaultdict(Mix)  # (day, account) → mix
        self.window_mix: dict[str, Mix] = defaultdict(Mix)
        self.api_mix: dict[tuple[str, str, dt.date | None], Mix] = defaultdict(lambda: Mix(basis=API_LOG_MIX))
        self.filled: dict[int, Mix] = {}  # id(row) → its mix, reweighted to what the cells served (fill.py)
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

    def mix_for(self, row: UsageRow) -> Mix | None:
        for key in ((row.service.lower(), row.api.lower(), row.day), (row.service.lower(), row.api.lower(), None)):
            mix = self.api_mix.get(key)
            if mix:
                return mix
        accounts = self.api_accounts.get((row.service.lower(), row.api.lower()))
        basis = ACCOUNT_MIX
        if not accounts:
            accounts, basis = {a for _d, a in self.day_mix} | set(self.window_mix), PLATFORM_MIX
        for per_day in (True, False):
            mix = Mix(basis=basis)
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

    def plan(self, counted: list[UsageRow]) -> None:
        """Reweight the platform-derived mixes of the rows without a model so that, together, they fill what each
        model served that day before any is over-filled (fill.py); rows naming their model take theirs first."""
        capacity: dict[tuple[dt.date, Served], list[Decimal]] = {
            key: [Decimal(v[0]), Decimal(v[1])] for key, v in self.platform_served.items()}
        split = []
        for row in counted:
            if not (row.input_tokens or row.output_tokens):
                continue
            served = self.pricer.served(row)
            if served.model:
                cap = capacity.get((row.day, served))
                if cap is not None:
                    cap[0] = max(cap[0] - row.input_tokens, ZERO)
                    cap[1] = max(cap[1] - row.output_tokens, ZERO)
                continue
            mix = self.mix_for(row)
            if mix is not None and mix.basis in (ACCOUNT_MIX, PLATFORM_MIX):
                split.append((row, mix.serving(row.output_tokens)))
        mixes = fill([(r.day, m, r.input_tokens, r.output_tokens) for r, m in split],
                     {k: (v[0], v[1]) for k, v in capacity.items()})
        self.filled = {id(r): m for (r, _m), m in zip(split, mixes, strict=True)}

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
            self.line(row, bucket, consumer, dimension, served, ZERO, ZERO, Decimal(row.tokens), None, None, None,
                       TOTAL_ONLY)
            return None, ZERO, ZERO, row.tokens, TOTAL_ONLY
        if served.model:
            parts, basis, rng = [(served, Decimal(i), Decimal(c), Decimal(o))], EXACT, None
        else:
            mix = self.filled.get(id(row)) or self.mix_for(row)
            mix = mix.serving(o) if mix is not None else None
            if mix is None:
                self.line(row, bucket, consumer, dimension, served, Decimal(i), Decimal(c), Decimal(o), None, None,
                           None, NO_MIX)
                return None, ZERO, ZERO, row.tokens, NO_MIX
            parts, basis = mix.split(i, c, o), mix.basis
            priced = [(pi, pc, po) for s, pi, pc, po in parts if s.price is not None]
            rng = price_range(mix, sum((p[0] for p in priced), ZERO), sum((p[1] for p in priced), ZERO),
                         sum((p[2] for p in priced), ZERO))
        money, unpriced = ZERO, ZERO
        priced_any = False
        for s, pi, pc, po in parts:
            if s.price is None:
                unpriced += pi + po
                self.pricer.miss(s, round(pi + po), "gateway", s.reason)
                self.line(row, bucket, consumer, dimension, s, pi, pc, po, None, None, None, basis)
                continue
            priced_any = True
            m = s.price.cost(pi, pc, po)
            money += m
            self.line(row, bucket, consumer, dimension, s, pi, pc, po, m, m, m, basis)
        low, high = (rng if rng is not None and basis != EXACT and basis != API_LOG_MIX else (money, money))
        low, high = min(low, money), max(high, money)  # Decimal rounding of the split must not leave the range
        return (money if priced_any else None), low, high, round(unpriced), basis

    def line(self, row: UsageRow, bucket: str, consumer: str, dimension: str, s: Served, i: Decimal, c: Decimal,
              o: Decimal, money: Decimal | None, low: Decimal | None, high: Decimal | None, basis: str) -> None:
        key = (row.day, bucket, dimension, consumer, row.api, row.product, *served_key(s), basis)
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


def _absorb_ptu(ptu: PtuMoney, scorer: _Scorer, consumers: dict[tuple[str, str], Consumer], gateway: Tally,
                unknown: Tally, unmetered: Tally | None, platform: Tally | None) -> Tally | None:
    """Move the reserved cost the PTU lines took into the tallies that counted those tokens as unpriced, and the
    platform total to every reserved hour; the unused days as a tally of their own (None when there are none)."""
    for line, money in ptu.priced:
        tokens = round(line.tokens)
        if line.bucket == UNMETERED:
            targets = [unmetered] if unmetered is not None else []
        elif line.bucket == UNKNOWN:
            targets = [unknown, gateway]
        else:
            consumer = consumers.get((line.dimension, line.consumer))
            targets = [gateway] + ([consumer.tally] if consumer is not None else [])
        for t in targets:
            t.money += money
            t.low += money
            t.high += money
            t.unpriced_tokens = max(t.unpriced_tokens - tokens, 0)
    if platform is not None and ptu.priced_deployments:
        served = sum((sum(v[:3]) for (_day, s), v in scorer.platform_served.items() if s.dtype == PROVISIONED_TYPE
                      and (s.account.lower(), s.deployment.lower()) in ptu.priced_deployments), 0)
        platform.money += ptu.reserved
        platform.low += ptu.reserved
        platform.high += ptu.reserved
        platform.unpriced_tokens = max(platform.unpriced_tokens - served, 0)
    if not ptu.unused:
        return None
    idle = Tally()
    for line in ptu.unused:
        idle.add(0, line.money)
    return idle


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
    scorer.plan(counted)
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
    if usage.platform and not gateway.tokens and api_accounts:  # an estate with no LLM API has no gateway to read
        notes.append("the gateway usage is empty while the platform served tokens: gateway usage is unknown, not zero")

    platform = unmetered = over = None
    reconciliation: list[Reconciliation] = []
    if usage.platform:
        platform, unmetered, over, reconciliation = reconcile(list(scorer.lines.values()), scorer.platform_served,
                                                              scorer.pricer, scorer.line)

    ptu = price_ptu(scorer.lines.values(), ptu_deployments(scorer.pricer.accounts.values()), prices.ptu, usage.window)
    ptu_unused = _absorb_ptu(ptu, scorer, consumers, gateway, unknown, unmetered, platform)
    notes.extend(ptu.notes)

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
        [*(Unpriced(m, v, t, r, e["gateway"] or e["platform"], e["reason"], "gateway" if e["gateway"] else "platform")
           for (m, v, t, r), e in pricer.missing.items() if t != PROVISIONED_TYPE), *ptu.unpriced],
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
        lines=sorted([*scorer.lines.values(), *ptu.unused], key=lambda ln: (ln.day, ln.bucket, ln.dimension, ln.consumer, ln.account,
                                                            ln.deployment, ln.model, ln.api)),
        unmetered=unmetered,
        over_metered=over,
        basis=dict(basis),
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        files=files,
        ptu_unused=ptu_unused,
    )
