"""Reconciliation: per day, account, deployment and model, the platform's figures against the gateway's lines.

Positive differences are traffic the gateway never metered (a line of the unmetered bucket), negative ones what
it over-metered (KQ003), so teams + unknown + unmetered − over-metered = platform total, in tokens and money.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from .model import UsageRow
from .prices import BATCH_TYPES, model_key
from .served import Pricer, Served, served_key
from .tally import UNMETERED, ZERO, Line, Reconciliation, Tally


def reconcile(lines: Iterable[Line], platform_served: Mapping[tuple[dt.date, Served], list[int]], pricer: Pricer,
              add_line: Callable[..., None]) -> tuple[Tally, Tally, Tally, list[Reconciliation]]:
    """Per day, account, deployment and model: the platform's tokens and money, and platform − gateway;
    positive is unmetered, negative over-metered. The platform metrics have no cached count: input tokens
    the gateway saw as cached are cached on the platform too, the rest is priced in full (an upper bound)."""
    gateway: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])  # in, cached, out, money
    for line in lines:
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
    for (day, s), (pi, po, total_only, pc) in sorted(platform_served.items(), key=lambda kv: (kv[0][0], served_key(kv[0][1]))):
        key = (day, s.account.lower(), s.deployment.lower(), model_key(s.model), s.version, s.dtype, s.region)
        seen.add(key)
        gi, gc, go, gm = gateway.get(key, [ZERO, ZERO, ZERO, ZERO])
        per_account[(s.account, day)][0] += gi + go
        per_account[(s.account, day)][1] += pi + po + total_only
        di, do = Decimal(pi) - gi, Decimal(po) - go
        cached = max(Decimal(pc), min(gc, Decimal(pi)))
        platform_money = s.price.cost(Decimal(pi), cached, Decimal(po)) if s.price and not total_only else None
        if platform_money is None and s.model:
            reason = s.reason if s.price is None else "only a total: input and output are priced apart"
            pricer.miss(s, pi + po + total_only, "platform", reason)
        platform.add(pi + po + total_only, platform_money)
        tokens = di + do + total_only
        if platform_money is None:  # nothing here is priced on the platform: gateway money here is over
            money_diff = -gm
        else:
            money_diff = platform_money - gm
        up = max(money_diff, ZERO) if platform_money is not None else None
        if tokens > 0:
            fake = UsageRow(day=day, api="", product="")
            add_line(fake, UNMETERED, "", "", s, max(di, ZERO), max(cached - gc, ZERO), max(do, ZERO) + total_only,
                       up, up, up, "platform metrics" + (" at batch rates" if s.dtype in BATCH_TYPES else ""))
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
