"""ARM numeric functions; copyIndex reads the copy loop the evaluator is in.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-numeric
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import Call
from ..values import (
    Unknown,
    as_int,
    as_text,
    known,
    need_known,
)
from .common import Eager, Evaluator, Lazy


def _div(args: list[Any], node: Call) -> Any:
    need_known(*args)
    a, b = as_int(args[0]), as_int(args[1])
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q  # integer division truncates toward zero, as in .NET


def _mod(args: list[Any], node: Call) -> Any:
    need_known(*args)
    a, b = as_int(args[0]), as_int(args[1])
    return a - b * _div([a, b], node)


def _numeric(fn: Callable[[int, int], int]) -> Callable[[list[Any], Call], Any]:
    def apply(args: list[Any], node: Call) -> Any:
        need_known(*args)
        return fn(as_int(args[0]), as_int(args[1]))

    return apply


def _copy_index(ev: Evaluator, node: Call) -> Any:
    """copyIndex([loopName], [offset]) (template-functions-numeric#copyindex)."""
    args = [ev.eval(a) for a in node.args]
    loop, offset = "", 0
    for a in args:
        if isinstance(a, str):
            loop = a.lower()
        elif isinstance(a, int) and not isinstance(a, bool):
            offset = a
    if loop not in ev.copy:
        return Unknown("copyIndex")
    return ev.copy[loop] + offset


EAGER: dict[str, Eager] = {
    "add": _numeric(lambda x, y: x + y),
    "sub": _numeric(lambda x, y: x - y),
    "mul": _numeric(lambda x, y: x * y),
    "div": _div,
    "mod": _mod,
    "int": lambda a, n: int(as_text(known(a[0]))) if isinstance(a[0], str) else as_int(known(a[0])),
    "float": lambda a, n: float(as_text(known(a[0]))),
}

LAZY: dict[str, Lazy] = {
    "copyindex": _copy_index,
}
