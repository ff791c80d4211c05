"""What went wrong reading a JSON input, said the same way by every reader: the file's fault, never ours.

`json.loads` raises JSONDecodeError for bad syntax, RecursionError for deep nesting, and a plain ValueError for
an integer longer than Python's integer-string conversion limit (4,300 digits by default; see
https://docs.python.org/3/library/stdtypes.html#int-max-str-digits). The last one carried no line and ended
runs as an internal error; here it is found again to give its line.
"""

from __future__ import annotations

import json
import re
import sys

_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 0  # 0: no limit (set by the user)
# a run of digits starting where no digit precedes it: each run is tried once, so this is linear
_LONG = re.compile(rb"(?<![0-9])[0-9]{%d}" % (_DIGITS + 1)) if _DIGITS else None


def describe(exc: BaseException, text: str | bytes) -> tuple[str, int | None]:
    """(problem, line or None) for an exception from json.loads over `text`."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg}", exc.lineno
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply", None
    if _LONG is not None and "digits" in str(exc):
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        m = _LONG.search(data)
        line = data.count(b"\n", 0, m.start()) + 1 if m else None
        return f"a number longer than {_DIGITS:,} digits (Python's limit for integers)", line
    return f"invalid JSON: {(str(exc).splitlines() or [type(exc).__name__])[0]}", None


def where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path
