"""`json.dump(obj, fh, indent=2, ensure_ascii=False)`, byte for byte, with less CPU.

With an indent, the standard library encodes in pure Python through a chain of generators, one level per
nesting depth, so every token of the report climbs five or six generators. Here the same layout is appended
to a list by plain recursion (leaves looked up by exact type, a key and its value as one piece) and written in
large pieces; strings go through the standard library's own (C) string encoder, numbers through
`int.__repr__` / `float.__repr__`, exactly as Lib/json/encoder.py (`_make_iterencode`) does. On a 1,000-API
report (2 MB): about 33 ms CPU against 48-60 ms for json.dump. tests/test_json_indent.py checks the output
against `json.dumps` on generated documents."""

from __future__ import annotations

from json.encoder import encode_basestring  # the C string encoder where available, as json uses it

_INDENT = "  "
_FLUSH = 1 << 14  # pieces held before they are written


def _float(o: float) -> str:
    # json.encoder's floatstr with allow_nan=True
    if o != o:
        return "NaN"
    if o == float("inf"):
        return "Infinity"
    if o == float("-inf"):
        return "-Infinity"
    return float.__repr__(o)


def _key(key) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _scalar(o) -> str | None:
    """A leaf's text, or None for a container."""
    if isinstance(o, str):
        return encode_basestring(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    if isinstance(o, (list, tuple, dict)):
        return None
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


_EXACT = {str: encode_basestring, int: int.__repr__, float: _float, type(None): lambda _o: "null",
          bool: lambda o: "true" if o else "false"}  # the common exact types, looked up once per value


def dump(obj, fh) -> None:
    """Write `obj` to the text file `fh` as `json.dump(obj, fh, indent=2, ensure_ascii=False)` would."""
    pieces: list[str] = []
    append = pieces.append
    exact = _EXACT.get

    def flush() -> None:
        fh.write("".join(pieces))
        pieces.clear()

    def container(o, level: int) -> None:
        inner = "\n" + _INDENT * (level + 1)
        if isinstance(o, dict):
            if not o:
                append("{}")
                return
            sep = "{" + inner
            for k, v in o.items():
                head = sep + encode_basestring(k if type(k) is str else _key(k)) + ": "
                sep = "," + inner
                leaf = exact(type(v))
                text = leaf(v) if leaf is not None else _scalar(v)
                if text is None:
                    append(head)
                    container(v, level + 1)
                else:
                    append(head + text)
            append("\n" + _INDENT * level + "}")
        else:
            if not o:
                append("[]")
                return
            sep = "[" + inner
            for v in o:
                leaf = exact(type(v))
                text = leaf(v) if leaf is not None else _scalar(v)
                if text is None:
                    append(sep)
                    container(v, level + 1)
                else:
                    append(sep + text)
                sep = "," + inner
                if len(pieces) > _FLUSH:
                    flush()
            append("\n" + _INDENT * level + "]")

    text = _scalar(obj)
    if text is None:
        container(obj, 0)
    else:
        append(text)
    flush()
