"""ARM object functions.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object
"""

from __future__ import annotations

from typing import Any

from ..syntax import Call
from ..values import (
    NeedsKnown,
    OpenObject,
    PropertyMissing,
    as_text,
    get_property,
    need_known,
)
from .common import Eager, unknown_call


def _items(args: list[Any], node: Call) -> Any:
    """items: an object as [{key, value}] sorted by key (template-functions-object#items)."""
    value = args[0]
    if isinstance(value, OpenObject) or not isinstance(value, dict):
        raise NeedsKnown
    return [{"key": k, "value": value[k]} for k in sorted(value, key=str.lower)]


def _create_object(args: list[Any], node: Call) -> Any:
    if len(args) % 2:
        raise ValueError("createObject() needs pairs")
    keys = args[0::2]
    need_known(*keys)
    return {as_text(k): v for k, v in zip(keys, args[1::2], strict=True)}


def _try_get(args: list[Any], node: Call) -> Any:
    value = args[0]
    for key in args[1:]:
        try:
            value = get_property(value, key, node.src)
        except PropertyMissing:
            return None
    return value


EAGER: dict[str, Eager] = {
    "createobject": _create_object,
    "items": _items,
    "null": lambda a, n: None,
    "shallowmerge": lambda a, n: {k: v for d in a[0] for k, v in d.items()} if isinstance(a[0], list) else need_known(None),
    "tryget": _try_get,
    "objectkeys": lambda a, n: list(a[0]) if isinstance(a[0], dict) and not isinstance(a[0], OpenObject) else
    unknown_call(a, n),
}
