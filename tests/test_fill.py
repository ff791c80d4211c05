"""Gateway rows without a model fill what each model served before any model is given more than it served."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from aoai_audit.usage.fill import fill
from aoai_audit.usage.prices import Price
from aoai_audit.usage.served import Mix, Served
from aoai_audit.usage.tally import CONSUMER, UNKNOWN
from test_usage import example_result

DAY = dt.date(2026, 11, 1)
BIG = Served("eus", "gpt-4o", "gpt-4o", "2024-11-20", "global", "eastus",
             Price("gpt-4o", "1120", "global", "*", Decimal("2.5"), Decimal("10"), Decimal("1.25")))
SMALL = Served("weu", "mini", "gpt-4o-mini", "2024-07-18", "global", "westeurope",
               Price("gpt-4o-mini", "0718", "global", "*", Decimal("0.15"), Decimal("0.6"), Decimal("0.075")))


def _load(rows, mixes):
    load = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (_d, _m, i, o), mix in zip(rows, mixes, strict=True):
        for served, si, _c, so in mix.split(i, 0, o):
            load[served][0] += si
            load[served][1] += so
    return load


def test_rows_sharing_accounts_fill_each_model_up_to_what_it_served():
    both = Mix({BIG: [Decimal(45), Decimal(9)], SMALL: [Decimal(19), Decimal(5)]})
    only_big = Mix({BIG: [Decimal(45), Decimal(9)]})
    rows = [(DAY, only_big, 25, 5), (DAY, both, 39, 8)]  # 64 in, 13 out: less than the 64 + 14 served
    capacity = {(DAY, BIG): (Decimal(45), Decimal(9)), (DAY, SMALL): (Decimal(19), Decimal(5))}
    mixes = fill(rows, capacity)
    load = _load(rows, mixes)
    # split by the served mix alone, the shared row would put 39 * 45/64 = 27.4 more on gpt-4o (52.4 > 45)
    naive = _load(rows, [m for _d, m, _i, _o in rows])
    assert naive[BIG][0] > 45
    for served, (cap_in, cap_out) in ((BIG, capacity[(DAY, BIG)]), (SMALL, capacity[(DAY, SMALL)])):
        assert load[served][0] <= cap_in + Decimal("0.000001") and load[served][1] <= cap_out + Decimal("0.000001")
    assert abs(sum(v[0] for v in load.values()) - 64) < Decimal("0.000001")  # every token placed
    # the order of the rows does not matter
    again = _load(list(reversed(rows)), fill(list(reversed(rows)), capacity))
    assert all(abs(again[s][k] - load[s][k]) < Decimal("0.000001") for s in load for k in (0, 1))


def test_what_no_cell_can_hold_stays_over_metered_spread_as_the_cells_served():
    both = Mix({BIG: [Decimal(10), Decimal(0)], SMALL: [Decimal(10), Decimal(0)]})
    rows = [(DAY, both, 40, 0)]
    load = _load(rows, fill(rows, {(DAY, BIG): (Decimal(10), Decimal(0)), (DAY, SMALL): (Decimal(10), Decimal(0))}))
    assert abs(load[BIG][0] - 20) < Decimal("0.000001") and abs(load[SMALL][0] - 20) < Decimal("0.000001")


def test_when_every_cell_is_full_the_excess_is_spread_as_the_cells_served_not_by_rounding():
    """2,000 gateway tokens over a 50/50 mix, where gpt-4o served 10 and gpt-4o-mini 1,000 that day: by hand,
    2,000 × 10/1,010 = 19.80 on gpt-4o and 2,000 × 1,000/1,010 = 1,980.20 on mini. Before, the scaling ran its
    400 rounds down to the precision floor and put 666.67 on gpt-4o, at its 16× dearer rate."""
    half = Mix({BIG: [Decimal(1), Decimal(0)], SMALL: [Decimal(1), Decimal(0)]})
    rows = [(DAY, half, 2000, 0)]
    load = _load(rows, fill(rows, {(DAY, BIG): (Decimal(10), Decimal(0)), (DAY, SMALL): (Decimal(1000), Decimal(0))}))
    assert abs(load[BIG][0] - Decimal(2000) * 10 / 1010) < Decimal("0.000001")
    assert abs(load[SMALL][0] - Decimal(2000) * 1000 / 1010) < Decimal("0.000001")


def test_the_example_gateway_never_costs_more_than_the_platform_served(registry):
    usage = example_result(registry).ctx.usage
    assert usage.gateway.tokens < usage.platform.tokens and usage.gateway.money <= usage.platform.money
    # per day and account the gateway's lines hold no more than the account served where the day had room
    for rec in usage.reconciliation:
        day_platform = sum(r.platform_tokens for r in usage.reconciliation if r.day == rec.day)
        day_gateway = sum(r.gateway_tokens for r in usage.reconciliation if r.day == rec.day)
        if day_gateway <= day_platform:
            assert rec.gateway_tokens <= rec.platform_tokens + 1, rec
    gateway_money = sum((x.money or 0 for x in usage.ledger if x.bucket in (CONSUMER, UNKNOWN)), Decimal(0))
    assert abs(gateway_money - usage.gateway.money) < Decimal("0.000001")


def test_a_row_with_no_weight_on_a_side_does_not_stop_the_others_filling_that_side():
    # the first row's mix has no output weight (an embedding-only mix): nothing of it to place on the output side;
    # the second row's 8 output tokens must still fill gpt-4o up to the 3 it served and gpt-4o-mini up to its 5
    no_output = Mix({BIG: [Decimal(10), Decimal(0)]})
    both = Mix({BIG: [Decimal(45), Decimal(9)], SMALL: [Decimal(19), Decimal(5)]})
    rows = [(DAY, no_output, 5, 5), (DAY, both, 39, 8)]
    capacity = {(DAY, BIG): (Decimal(45), Decimal(3)), (DAY, SMALL): (Decimal(19), Decimal(5))}
    load = _load(rows[1:], fill(rows, capacity)[1:])
    assert abs(load[BIG][1] - 3) < Decimal("0.000001") and abs(load[SMALL][1] - 5) < Decimal("0.000001")
