"""The shape a reader expects of a JSON value, or an empty one: read material puts anything anywhere, and a
member of the wrong kind reads as absent (the reader's own checks then say what is missing) rather than crash.

Typed so that a reader's `.get()` chain is checked: `isinstance(d.get(k), dict)` does not narrow a second
`d.get(k)` for mypy, these do."""

from __future__ import annotations

from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []
