"""Values of ARM template expressions: what is known, and typed placeholders for what only a deployment knows.

`Unknown` carries a readable label (`apimName`, `reference(openai).properties.endpoint`); `Text` is a string
whose parts are partly unknown (`https://{name}.openai.azure.com/`); `OpenObject` is an object of which some
properties are known. `render` turns them into plain data with placeholders, for the estate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUBSCRIPTION = "/subscriptions/{subscription}"
RESOURCE_GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroup}"
MAX_ITEMS = 1000  # largest range()/copy expanded; above it the value is Unknown
_LABEL_DROP = str.maketrans({"'": None, '"': None, "{": None, "}": None, "<": None, ">": None, "&": None,
                             "[": "(", "]": ")", "/": "∕", "\n": " ", "\r": None, "\t": " "})


# ---------------------------------------------------------------------------------------- typed values


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value only a deployment knows. The label says where it comes from, e.g. `apimName`."""

    label: str
    secret: bool = False

    def __str__(self) -> str:
        return "{redacted: " + self.label + "}" if self.secret else "{" + self.label + "}"


@dataclass(frozen=True, slots=True)
class Text:
    """A string whose parts are partly known: literal text and `Unknown`s, in order."""

    parts: tuple[str | Unknown, ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)

    def map_literals(self, fn: Callable[[str], str]) -> Text | str | Unknown:
        return text(*(fn(p) if isinstance(p, str) else p for p in self.parts))


class OpenObject(dict):
    """An object of which some properties are known; any other property is an `Unknown` named after it."""

    def __init__(self, label: str, known: dict[str, Any] | None = None):
        super().__init__(known or {})
        self.label = label


def text(*pieces: Any) -> str | Text | Unknown:
    """Concatenate strings, `Text`s and `Unknown`s into the simplest value that holds them."""
    parts: list[str | Unknown] = []
    run: list[str] = []  # literal text since the last Unknown, joined once (`+=` per piece was quadratic)
    for piece in pieces:
        piece = scalar(piece)
        for part in (piece.parts if isinstance(piece, Text) else (piece,)):
            if isinstance(part, Unknown):
                if run:
                    parts.append("".join(run))
                    run = []
                parts.append(part)
            else:
                run.append(as_text(part))
    if run:
        parts.append("".join(run))
    parts = [p for p in parts if p != ""]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return Text(tuple(parts))


def is_unknown(value: Any) -> bool:
    return isinstance(value, (Unknown, Text))


def has_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def render(value: Any) -> Any:
    """Plain Python data: strings with placeholders where a part is unknown; objects and arrays kept."""
    if is_unknown(value):
        return str(value)
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[") and value.endswith("]")


def literal(value: str) -> str:
    """A string as ARM reads it: a leading `[[` escapes a literal `[`."""
    return value[1:] if value.startswith("[[") else value


def as_text(v: Any) -> str:
    """A scalar as text; booleans as .NET writes them (format() uses System.String.Format)."""
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(render(v), separators=(",", ":"))
    return v if isinstance(v, str) else str(v)


def label_of(src: str) -> str:
    """A short, report-safe label from expression source: `parameters('x')` reads as `x`."""
    src = re.sub(r"\b(?:parameters|variables)\('((?:[^']|'')*)'\)", r"\1", src, flags=re.I)
    label = " ".join(src.translate(_LABEL_DROP).split())
    return label if len(label) <= 60 else label[:57] + "…"


class NeedsKnown(Exception):
    """A function needs a fully known argument; its result is Unknown (labelled by the caller)."""


def need_known(*values: Any) -> None:
    if any(has_unknown(v) for v in values):
        raise NeedsKnown


def get_property(value: Any, key: Any, src: str) -> Any:
    """Property or index access (`a.b`, `a['b']`, `a[0]`); on unknowns the path is part of the label."""
    if isinstance(key, (Unknown, Text)):
        return Unknown(label_of(src))
    if isinstance(value, Unknown):
        return Unknown(f"{value.label}.{key}" if isinstance(key, str) else f"{value.label}({key})",
                       value.secret)
    if isinstance(value, OpenObject):
        match = next((k for k in value if isinstance(key, str) and k.lower() == key.lower()), None)
        if match is not None:
            return value[match]
        return OpenObject(f"{value.label}.{key}")
    if isinstance(value, dict):
        if isinstance(key, str):
            match = next((k for k in value if k.lower() == key.lower()), None)  # property names ignore case
            if match is not None:
                return value[match]
        raise PropertyMissing(src)
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
        if -len(value) <= key < len(value) and key >= 0:
            return value[key]
        raise PropertyMissing(src)
    if isinstance(value, str) and key in ("id", "name") and "/" in value:  # a resource id used as a resource
        return value if key == "id" else value.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(value, Text) and key in ("id", "name"):
        return value if key == "id" else Unknown(label_of(src))
    raise PropertyMissing(src)


class PropertyMissing(Exception):
    pass


def scalar(value: Any) -> Any:
    """An OpenObject used as a scalar (e.g. `reference(x)` concatenated) is unknown."""
    return Unknown(value.label) if isinstance(value, OpenObject) else value


def as_int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError("bool is not int")
    if isinstance(v, float):
        return int(v)
    return int(v)


def compare(a: Any, b: Any) -> int:
    """greater/less: ints numerically; strings as .NET's culture comparison orders them ('A' > 'a').

    template-functions-comparison: greater('A', 'a') is True.
    """
    if isinstance(a, str) and isinstance(b, str):
        ka, kb = (a.lower(), a.swapcase()), (b.lower(), b.swapcase())
        return (ka > kb) - (ka < kb)
    a, b = as_int(a), as_int(b)
    return (a > b) - (a < b)


def equals(a: Any, b: Any) -> Any:
    """equals: deep equality of ints, strings (case-sensitive), arrays and objects; unknown if it cannot say."""
    if isinstance(a, OpenObject) or isinstance(b, OpenObject):
        raise NeedsKnown
    if isinstance(a, Text) and isinstance(b, str):
        a, b = b, a
    if isinstance(a, str) and isinstance(b, Text):
        first, last = b.parts[0], b.parts[-1]
        if (isinstance(first, str) and not a.startswith(first)) or (isinstance(last, str) and not a.endswith(last)):
            return False
        raise NeedsKnown
    if has_unknown(a) or has_unknown(b):
        raise NeedsKnown
    if isinstance(a, dict) and isinstance(b, dict):
        return {k.lower(): v for k, v in a.items()} == {k.lower(): v for k, v in b.items()}
    return a == b


def truth(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None

SUBSCRIPTION_T = text("/subscriptions/", Unknown("subscription"))
RESOURCE_GROUP_T = text(SUBSCRIPTION_T, "/resourceGroups/", Unknown("resourceGroup"))


def absolute_id(resource_id: str) -> str:
    return resource_id if resource_id.startswith("/") else f"{RESOURCE_GROUP}/providers/{resource_id}"
