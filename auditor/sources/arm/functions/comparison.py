"""ARM comparison functions.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-comparison
"""

from __future__ import annotations

from typing import Any

from ..syntax import Call
from ..values import (
    Unknown,
    compare,
    equals,
    known,
    label_of,
)
from .common import Eager


def _coalesce(args: list[Any], node: Call) -> Any:
    """coalesce: the first non-null argument; empty strings, arrays and objects are not null."""
    for value in args:
        if isinstance(value, Unknown):
            return Unknown(label_of(node.src))  # might be null: then a later argument would win
        if value is not None:
            return value
    return None


EAGER: dict[str, Eager] = {
    "coalesce": _coalesce,
    "equals": lambda a, n: equals(a[0], a[1]),
    "greater": lambda a, n: compare(known(a[0], a[1]), a[1]) > 0,
    "greaterorequals": lambda a, n: compare(known(a[0], a[1]), a[1]) >= 0,
    "less": lambda a, n: compare(known(a[0], a[1]), a[1]) < 0,
    "lessorequals": lambda a, n: compare(known(a[0], a[1]), a[1]) <= 0,
}
