"""ARM string functions (and the ones Microsoft lists under both string and array: contains, empty, first, last,
length, indexOf, lastIndexOf, skip, take), from their evaluated arguments.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..bounds import MAX_WEIGHT, Breach
from ..syntax import Call
from ..values import (
    NeedsKnown,
    OpenObject,
    Text,
    Unknown,
    as_int,
    as_text,
    is_unknown,
    label_of,
    need_known,
    render,
    scalar,
    text,
)
from .common import Eager, unknown_call

# .NET composite formatting, as System.String.Format reads it (template-functions-string#format):
# {index[,alignment][:formatString]}, with {{ and }} for literal braces.
_ITEM = re.compile(r"\{\{|\}\}|\{\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::([^{}]*))?\}")  # no brace in a spec: linear


def _format_number(value: Any, spec: str) -> str:
    if not spec or isinstance(value, bool) or not isinstance(value, (int, float)):
        return as_text(value)
    kind, digits = spec[0].upper(), spec[1:]
    n = int(digits) if digits.isdigit() and len(digits) < 10 else None
    if n is not None and n > MAX_WEIGHT:
        raise Breach(f"a format precision of {n:,} digits")
    if kind == "D" and isinstance(value, int):
        return ("-" if value < 0 else "") + str(abs(value)).zfill(n or 0)
    if kind == "X" and isinstance(value, int):
        out = format(value, "x").zfill(n or 0)
        return out.upper() if spec[0] == "X" else out
    if kind == "N":
        return f"{value:,.{2 if n is None else n}f}"
    if kind == "F":
        return f"{value:.{2 if n is None else n}f}"
    if spec == "#,##0" or spec == "#,#":
        return f"{value:,.0f}"
    return as_text(value)


def _format(args: list[Any], node: Call) -> Any:
    if not args:
        raise NeedsKnown
    template = args[0]
    if not isinstance(template, str):
        raise NeedsKnown
    pieces: list[Any] = []
    pos = 0
    for m in _ITEM.finditer(template):
        pieces.append(template[pos:m.start()])
        pos = m.end()
        if m.group(0) in ("{{", "}}"):
            pieces.append(m.group(0)[0])
            continue
        index = int(m.group(1)) + 1
        if index >= len(args):
            raise NeedsKnown  # the deployment fails: "index must be less than the size of the argument list"
        value = scalar(args[index])
        piece = value if is_unknown(value) else _format_number(value, m.group(3) or "")
        if m.group(2) and isinstance(piece, str):
            width = int(m.group(2)) if len(m.group(2)) < 12 else MAX_WEIGHT + 1
            if abs(width) > MAX_WEIGHT:
                raise Breach(f"a format alignment of {abs(width):,} characters")
            piece = piece.rjust(width) if width > 0 else piece.ljust(-width)
        pieces.append(piece)
    pieces.append(template[pos:])
    return text(*pieces)


def _concat(args: list[Any], node: Call) -> Any:
    """concat: strings into a string, or arrays into an array (template-functions-string#concat)."""
    args = [scalar(a) for a in args]
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    if any(isinstance(a, list) for a in args):
        if any(isinstance(a, Unknown) for a in args):
            return Unknown(label_of(node.src))
        return [x for a in args for x in (a if isinstance(a, list) else [a])]
    return text(*args)


def _replace(args: list[Any], node: Call) -> Any:
    original, old, new = args[0], args[1], args[2]
    need_known(old)
    if isinstance(original, Unknown):
        return original
    if not isinstance(new, (str, Text, Unknown)):
        new = as_text(new)
    pieces = original.parts if isinstance(original, Text) else (as_text(original),)
    out: list[Any] = []
    for part in pieces:
        if isinstance(part, Unknown) or not old:
            out.append(part)
            continue
        chunks = part.split(old)
        grown = len(part) + (len(chunks) - 1) * (len(str(new)) - len(old))
        if grown > MAX_WEIGHT:
            raise Breach(f"a replacement growing a string to {grown:,} characters")
        for i, chunk in enumerate(chunks):
            if i:
                out.append(new)
            out.append(chunk)
    return text(*out)


def _case(fn: Callable[[str], str]) -> Callable[[list[Any], Call], Any]:
    def apply(args: list[Any], node: Call) -> Any:
        value = scalar(args[0])
        if isinstance(value, Unknown):
            return value
        if isinstance(value, Text):
            return value.map_literals(fn)
        return fn(as_text(value))

    return apply


def _trim(args: list[Any], node: Call) -> Any:
    value = args[0]
    if isinstance(value, Text):
        parts = list(value.parts)
        if isinstance(parts[0], str):
            parts[0] = parts[0].lstrip()
        if isinstance(parts[-1], str):
            parts[-1] = parts[-1].rstrip()
        return text(*parts)
    need_known(value)
    return as_text(value).strip()


def _starts_ends(end: bool) -> Callable[[list[Any], Call], Any]:
    """startsWith/endsWith compare case-insensitively (template-functions-string#startswith)."""

    def apply(args: list[Any], node: Call) -> Any:
        value, find = args[0], args[1]
        need_known(find)
        find = as_text(find).lower()
        if isinstance(value, Text):
            edge = value.parts[-1 if end else 0]
            if isinstance(edge, str) and len(edge) >= len(find):
                return edge.lower().endswith(find) if end else edge.lower().startswith(find)
            raise NeedsKnown
        need_known(value)
        value = as_text(value).lower()
        return value.endswith(find) if end else value.startswith(find)

    return apply


def _contains(args: list[Any], node: Call) -> Any:
    """contains: arrays by value, object keys case-insensitively, substrings case-sensitively."""
    container, item = scalar(args[0]), args[1]
    if isinstance(container, dict) and not isinstance(container, OpenObject):
        need_known(item)
        return as_text(item).lower() in {k.lower() for k in container}
    if isinstance(container, list):
        if item in container:
            return True
        need_known(container, item)
        return False
    if isinstance(container, Text):
        need_known(item)
        if any(isinstance(p, str) and as_text(item) in p for p in container.parts):
            return True
        raise NeedsKnown
    need_known(container, item)
    if isinstance(container, OpenObject):
        raise NeedsKnown
    return as_text(item) in as_text(container)


def _length(args: list[Any], node: Call) -> Any:
    value = scalar(args[0])
    if isinstance(value, (list, dict)) and not isinstance(value, OpenObject):
        return len(value)
    need_known(value)
    if isinstance(value, OpenObject):
        raise NeedsKnown
    return len(as_text(value))


def _empty(args: list[Any], node: Call) -> Any:
    value = args[0]
    if isinstance(value, OpenObject):
        raise NeedsKnown
    if isinstance(value, Text):
        return False  # it has literal text
    need_known(value) if isinstance(value, Unknown) else None
    return value in (None, "", [], {})


def _first_last(last: bool) -> Callable[[list[Any], Call], Any]:
    def apply(args: list[Any], node: Call) -> Any:
        value = args[0]
        if isinstance(value, list):
            return (value[-1] if last else value[0]) if value else None
        if isinstance(value, Text):
            edge = value.parts[-1 if last else 0]
            if isinstance(edge, str):
                return edge[-1] if last else edge[0]
            raise NeedsKnown
        need_known(value)
        value = as_text(value)
        return (value[-1:] if last else value[:1])

    return apply


def _take_skip(take: bool) -> Callable[[list[Any], Call], Any]:
    """take/skip on arrays and strings; counts below 0 act as 0 (template-functions-array#take)."""

    def apply(args: list[Any], node: Call) -> Any:
        value, count = args[0], args[1]
        need_known(count)
        n = max(as_int(count), 0)
        if isinstance(value, list):
            return value[:n] if take else value[n:]
        if isinstance(value, Text) and take and isinstance(value.parts[0], str) and len(value.parts[0]) >= n:
            return value.parts[0][:n]
        need_known(value)
        value = as_text(value)
        return value[:n] if take else value[n:]

    return apply


def _substring(args: list[Any], node: Call) -> Any:
    value = args[0]
    need_known(*args[1:])
    start = as_int(args[1]) if len(args) > 1 else 0
    if isinstance(value, Text) and isinstance(value.parts[0], str) and len(args) > 2:
        head = value.parts[0]
        if start + as_int(args[2]) <= len(head):
            return head[start:start + as_int(args[2])]
    need_known(value)
    value = as_text(value)
    if start < 0 or start > len(value):
        raise ValueError("substring start")
    if len(args) > 2:
        length = as_int(args[2])
        if length < 0 or start + length > len(value):
            raise ValueError("substring length")  # the deployment fails: not a value
        return value[start:start + length]
    return value[start:]


def _index_of(last: bool) -> Callable[[list[Any], Call], Any]:
    """indexOf/lastIndexOf: strings case-insensitively (string functions); arrays by value (array functions)."""

    def apply(args: list[Any], node: Call) -> Any:
        value, find = args[0], args[1]
        if isinstance(value, list):
            need_known(find)
            matches = [i for i, v in enumerate(value) if v == find]
            if not matches:
                need_known(value)
                return -1
            return matches[-1] if last else matches[0]
        need_known(value, find)
        hay, needle = as_text(value).lower(), as_text(find).lower()
        return hay.rfind(needle) if last else hay.find(needle)

    return apply


def _split(args: list[Any], node: Call) -> Any:
    value, delimiters = args[0], args[1]
    need_known(delimiters)
    if isinstance(value, Text) and isinstance(delimiters, str) and delimiters:
        # split the literal parts; an unknown part stays inside its segment ('https://{x}.azure.com/' → host)
        segments: list[list[Any]] = [[]]
        for part in value.parts:
            if isinstance(part, Unknown):
                segments[-1].append(part)
                continue
            pieces = part.split(delimiters)
            segments[-1].append(pieces[0])
            segments.extend([p] for p in pieces[1:])
        return [text(*seg) for seg in segments]
    need_known(value)
    delims = [as_text(d) for d in delimiters] if isinstance(delimiters, list) else [as_text(delimiters)]
    parts = [as_text(value)]
    for d in delims:
        if d:
            parts = [q for p in parts for q in p.split(d)]
    return parts


def _string(args: list[Any], node: Call) -> Any:
    value = scalar(args[0])
    if is_unknown(value):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(render(value), separators=(",", ":"))
    return as_text(value)


def _json(args: list[Any], node: Call) -> Any:
    need_known(args[0])
    return json.loads(as_text(args[0]))


def _uri(args: list[Any], node: Call) -> Any:
    """uri(base, relative): combines as .NET's Uri(Uri, string) does (template-functions-string#uri)."""
    base, rel = args[0], args[1]
    need_known(rel)
    if isinstance(base, Text) and as_text(rel).startswith("/") is False and isinstance(base.parts[-1], str) \
            and base.parts[-1].endswith("/"):
        return text(base, rel)
    need_known(base)
    return urllib.parse.urljoin(as_text(base), as_text(rel))


def _b64(args: list[Any], node: Call) -> Any:
    need_known(args[0])
    return base64.b64encode(as_text(args[0]).encode()).decode()


def _b64_to_string(args: list[Any], node: Call) -> Any:
    need_known(args[0])
    return base64.b64decode(as_text(args[0])).decode("utf-8", errors="replace")


def _data_uri(args: list[Any], node: Call) -> Any:
    need_known(args[0])
    return "data:text/plain;charset=utf8;base64," + base64.b64encode(as_text(args[0]).encode()).decode()


def _pad_left(args: list[Any], node: Call) -> Any:
    need_known(*args)
    pad = as_text(args[2]) if len(args) > 2 else " "
    width = as_int(args[1])
    if width > MAX_WEIGHT:
        raise Breach(f"padLeft to {width:,} characters")
    return as_text(args[0]).rjust(width, pad[:1] or " ")


def _deterministic(fn: str) -> Callable[[list[Any], Call], Any]:
    """uniqueString/guid hash their arguments; the algorithm is not documented, so the value is a placeholder."""

    def apply(args: list[Any], node: Call) -> Any:
        return Unknown(label_of(node.src) or fn)

    return apply


EAGER: dict[str, Eager] = {
    "base64": _b64,
    "base64tostring": _b64_to_string,
    "base64tojson": lambda a, n: json.loads(_b64_to_string(a, n)),
    "concat": _concat,
    "contains": _contains,
    "datauri": _data_uri,
    "datauritostring": lambda a, n: (need_known(a[0]), _b64_to_string([as_text(a[0]).split(",", 1)[-1]], n))[1],
    "empty": _empty,
    "endswith": _starts_ends(True),
    "first": _first_last(False),
    "format": _format,
    "guid": _deterministic("guid"),
    "indexof": _index_of(False),
    "json": _json,
    "last": _first_last(True),
    "lastindexof": _index_of(True),
    "length": _length,
    "newguid": unknown_call,
    "padleft": _pad_left,
    "replace": _replace,
    "skip": _take_skip(False),
    "split": _split,
    "startswith": _starts_ends(False),
    "string": _string,
    "substring": _substring,
    "take": _take_skip(True),
    "tolower": _case(str.lower),
    "toupper": _case(str.upper),
    "trim": _trim,
    "uniquestring": _deterministic("uniqueString"),
    "uri": _uri,
    "uricomponent": lambda a, n: (need_known(a[0]), urllib.parse.quote(as_text(a[0]), safe=""))[1],
    "uricomponenttostring": lambda a, n: (need_known(a[0]), urllib.parse.unquote(as_text(a[0])))[1],
    "join": lambda a, n: (need_known(*a), as_text(a[1]).join(as_text(x) for x in a[0]))[1],
}
