"""ARM array functions (union and intersection also merge objects, as Microsoft lists them under both).
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-array
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import Call
from ..values import (
    MAX_ITEMS,
    NeedsKnown,
    as_int,
    need_known,
)
from .common import Eager


def _union(args: list[Any], node: Call) -> Any:
    """union: objects merge (later keys win, nested objects merged), arrays keep distinct items in order."""
    if all(isinstance(a, dict) for a in args):
        out: dict[str, Any] = {}
        for a in args:
            for k, v in a.items():
                if isinstance(v, dict) and isinstance(out.get(k), dict):
                    out[k] = _union([out[k], v], node)
                else:
                    out[k] = v
        return out
    if all(isinstance(a, list) for a in args):
        items: list[Any] = []
        for a in args:
            for v in a:
                if v not in items:
                    items.append(v)
        return items
    raise NeedsKnown


def _intersection(args: list[Any], node: Call) -> Any:
    need_known(*args)
    if all(isinstance(a, dict) for a in args):
        return {k: v for k, v in args[0].items() if all(k in a and a[k] == v for a in args[1:])}
    if all(isinstance(a, list) for a in args):
        out = []
        for v in args[0]:
            if all(v in a for a in args[1:]) and v not in out:
                out.append(v)
        return out
    raise TypeError("intersection()")


def _range(args: list[Any], node: Call) -> Any:
    need_known(*args)
    start, count = as_int(args[0]), as_int(args[1])
    if not 0 <= count <= MAX_ITEMS:
        raise NeedsKnown
    return list(range(start, start + count))


def _min_max(fn: Callable[..., Any]) -> Callable[[list[Any], Call], Any]:
    def apply(args: list[Any], node: Call) -> Any:
        values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        need_known(*values)
        return fn(as_int(v) for v in values)

    return apply


def _flatten(args: list[Any], node: Call) -> Any:
    value = args[0]
    if not isinstance(value, list) or not all(isinstance(v, list) for v in value):
        raise NeedsKnown
    return [x for v in value for x in v]


EAGER: dict[str, Eager] = {
    "array": lambda a, n: a[0] if isinstance(a[0], list) else [a[0]],
    "createarray": lambda a, n: list(a),
    "flatten": _flatten,
    "intersection": _intersection,
    "max": _min_max(max),
    "min": _min_max(min),
    "range": _range,
    "union": _union,
    "trygetfirst": lambda a, n: a[0][0] if isinstance(a[0], list) and a[0] else None,
}
