"""Gateway rows without a model, placed on what the accounts actually served, never beyond it while room is left.

A token-metric row names no model: it is split across the served mix of its API's backend account(s). Split by
the mix alone, two rows that share an account each take their proportional part of every model, so one model
can be given more tokens than it served on the day (while another is left short) and be priced, at its own
rate, for tokens nobody was billed for: the gateway's money then exceeds the platform's for the same traffic.

Here every model served on a day (a cell) has a capacity, the input and output tokens the platform reports
for it, less what rows naming that model already took. The rows that split across mixes are weighted, cell by
cell, so that the cells fill to their capacity together (iterative proportional scaling, as in matrix
balancing): a cell that would be over-filled is scaled down, which moves the rows' remaining tokens to the
cells of their mix that still have room. Only what no cell of a row's mix can hold stays over-metered (KQ003):
when every cell is full, the rows' tokens are spread as the cells had room. A cell with nothing left (rows naming
its model took all it served) takes nothing while another cell of the row has room, as a cell with almost nothing
left takes almost nothing; a row whose cells all have nothing left keeps its served mix. The result is the same for
any order of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from .served import Mix, Served
from .tally import ZERO

ROUNDS = 400  # scaling rounds at most: each one moves the overflow of full cells to cells with room
PRECISION = Decimal("1e-20")  # the scale factors are allocation keys, kept exact and deterministic
CLOSE = Decimal(1) - Decimal("1e-12")  # a cell within this of its capacity is full

Cell = tuple[dt.date, Served]


def _scales(demands: Sequence[tuple[Decimal, dict[Served, Decimal]]], capacity: Mapping[Served, Decimal]
            ) -> dict[Served, Decimal]:
    """Per cell, the factor its weight is multiplied by so that the rows' split fills the cells to capacity."""
    # a cell with no room left starts (and stays) at 0; a cell without a capacity (a window-wide mix) has room
    scale = {s: Decimal(0) if s in capacity and not capacity[s] else Decimal(1) for _d, weights in demands for s in weights}
    for _round in range(ROUNDS):
        load: dict[Served, Decimal] = defaultdict(lambda: ZERO)
        for demand, weights in demands:
            total = sum((w * scale[s] for s, w in weights.items()), ZERO)
            if not total:
                continue
            for s, w in weights.items():
                load[s] += demand * w * scale[s] / total
        over = {s: capacity[s] / load[s] for s in load if s in capacity and load[s] > capacity[s] > 0}
        if not over or all(f > CLOSE for f in over.values()):
            break
        if len(over) == sum(1 for v in load.values() if v) and min(over.values()) / max(over.values()) > CLOSE:
            # every cell is over by the same factor: scaling them alike moves no token, so what is left is
            # over-metered, spread as the cells had room (scaling on would only drive the factors to the precision
            # floor, where rounding, not the tokens, decided the split)
            break
        for s, factor in over.items():
            scale[s] = (scale[s] * factor).quantize(PRECISION) or PRECISION
    return scale


def fill(rows: Sequence[tuple[dt.date, Mix, int, int]], capacity: Mapping[Cell, tuple[Decimal, Decimal]]
         ) -> list[Mix]:
    """Each row's mix (day, mix, input, output) reweighted so that, day by day, the rows fill the cells they
    share up to what each served (`capacity`: cell → input, output tokens left for them). Cells without a
    capacity that day (a window-wide mix) keep their weight."""
    scales: dict[tuple[dt.date, int], dict[Served, Decimal]] = {}
    for day in sorted({d for d, _m, _i, _o in rows}):
        mine = [(m, i, o) for d, m, i, o in rows if d == day]
        for side in (0, 1):
            demands = [(Decimal(i if side == 0 else o), {s: w[side] for s, w in m.parts.items() if w[side]})
                       for m, i, o in mine]
            cap = {s: capacity[(day, s)][side] for _d, weights in demands for s in weights if (day, s) in capacity}
            scales[(day, side)] = _scales([d for d in demands if d[0]], cap)
    return [_reweighted(mix, (i, o), (scales[(day, 0)], scales[(day, 1)])) for day, mix, i, o in rows]


def _reweighted(mix: Mix, tokens: tuple[int, int], scales: tuple[dict[Served, Decimal], dict[Served, Decimal]]) -> Mix:
    """A row's mix with each side's weights scaled, where the row has tokens on that side (every cell it weights is
    then in that side's scales); a side whose cells all have nothing left keeps the weights it was served by."""
    parts = {s: list(w) for s, w in mix.parts.items()}
    for side, scale in enumerate(scales):
        scaled = {s: w[side] * scale[s] for s, w in mix.parts.items() if w[side]} if tokens[side] else {}
        if any(scaled.values()):
            for s, v in scaled.items():
                parts[s][side] = v
    return Mix(parts, mix.basis)
