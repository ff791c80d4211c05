"""Gateway rows without a model filled onto what each model served (auditor/usage/fill.py), branch by branch, against
splits worked out by hand here (issue 29): the stop when every cell is over by the same factor, a model with
nothing left to serve, and the input and output sides apart. Models and prices as in tests/test_fill.py."""

from __future__ import annotations

from decimal import Decimal

from test_fill import BIG, DAY, SMALL, _load

from aoai_audit.usage.fill import fill
from aoai_audit.usage.prices import Price
from aoai_audit.usage.served import Mix, Served

THIRD = Served("eus", "o1", "o1", "2024-12-17", "global", "eastus",
               Price("o1", "1217", "global", "*", Decimal(15), Decimal(60), Decimal("7.5")))
TINY = Decimal("0.000001")


def _near(got: Decimal, want: Decimal) -> bool:
    return abs(got - want) < TINY


def _cap(**by: tuple[int, int]) -> dict:
    cells = {"big": BIG, "small": SMALL, "third": THIRD}
    return {(DAY, cells[k]): (Decimal(v[0]), Decimal(v[1])) for k, v in by.items()}


def test_when_all_three_models_are_full_the_excess_is_spread_as_each_had_room():
    """200 input tokens over an even mix of three models with room for 10, 30 and 60: all full at 100, the 100 over
    is spread like the room, 200 × 10/100 = 20, 60 and 120 (not a third each, not decided by rounding)."""
    even = Mix({BIG: [Decimal(1), Decimal(0)], SMALL: [Decimal(1), Decimal(0)], THIRD: [Decimal(1), Decimal(0)]})
    rows = [(DAY, even, 200, 0)]
    load = _load(rows, fill(rows, _cap(big=(10, 0), small=(30, 0), third=(60, 0))))
    assert _near(load[BIG][0], Decimal(20)) and _near(load[SMALL][0], Decimal(60)) and _near(load[THIRD][0], Decimal(120))


def test_a_model_with_nothing_left_takes_nothing_while_another_has_room():
    """gpt-4o's day was all taken by rows naming it (0 left), gpt-4o-mini has 10 left: a 100-token row over the
    even mix goes wholly to mini, 10 filling it and 90 over-metered; gpt-4o, 16× dearer, gets none. With 0.001 left
    gpt-4o would take 100 × 0.001/10.001 = 0.01; before, its zero kept it out of the scaling and it took 90."""
    half = Mix({BIG: [Decimal(1), Decimal(0)], SMALL: [Decimal(1), Decimal(0)]})
    rows = [(DAY, half, 100, 0)]
    load = _load(rows, fill(rows, _cap(big=(0, 0), small=(10, 0))))
    assert _near(load[BIG][0], Decimal(0)) and _near(load[SMALL][0], Decimal(100))


def test_rows_whose_models_are_all_full_at_zero_are_spread_as_they_served():
    """Nothing left anywhere: no cell has room, so the rows keep the served mix (3:1), 40 → 30 and 10; a row over
    gpt-4o alone stays there."""
    mix = Mix({BIG: [Decimal(3), Decimal(0)], SMALL: [Decimal(1), Decimal(0)]})
    only_big = Mix({BIG: [Decimal(3), Decimal(0)]})
    rows = [(DAY, mix, 40, 0), (DAY, only_big, 8, 0)]
    mixes = fill(rows, _cap(big=(0, 0), small=(0, 0)))
    first, second = _load(rows[:1], mixes[:1]), _load(rows[1:], mixes[1:])
    assert _near(first[BIG][0], Decimal(30)) and _near(first[SMALL][0], Decimal(10))
    assert _near(second[BIG][0], Decimal(8)) and SMALL not in second


def test_the_output_side_fills_by_its_own_room_whatever_the_input_side_does():
    """Input room 50/50 (100 each, 40 tokens: nothing full, split as the mix 20/20); output room gpt-4o 2, mini 18:
    the row's 20 output tokens fill gpt-4o to 2 and mini to 18, where the mix alone would give 10 and 10."""
    mix = Mix({BIG: [Decimal(1), Decimal(1)], SMALL: [Decimal(1), Decimal(1)]})
    rows = [(DAY, mix, 40, 20)]
    load = _load(rows, fill(rows, _cap(big=(100, 2), small=(100, 18))))
    assert _near(load[BIG][0], Decimal(20)) and _near(load[SMALL][0], Decimal(20))
    assert _near(load[BIG][1], Decimal(2)) and _near(load[SMALL][1], Decimal(18))
