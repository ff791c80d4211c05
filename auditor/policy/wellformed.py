"""APIM's raw policy XML made well-formed: each policy expression (`@(...)`, `@{...}`) may hold raw `"`, `<T>`
generics and `&&`; a C#-aware bracket scanner finds where it ends and it is escaped in place, never adding or
removing a newline, so line numbers stay true. Expressions stay opaque text: nothing here evaluates C#.
"""

from __future__ import annotations

import re

_NAME_START = re.compile(r"[A-Za-z_:/!?]")


class RawXmlError(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip_string(text: str, j: int, verbatim: bool, interpolated: bool) -> int:
    """j points just after the opening quote; return the index after the closing quote."""
    n = len(text)
    while j < n:
        m = _STRING_STOP.search(text, j)
        if m is None:
            break
        j = m.start()
        c = m.group(0)
        if verbatim:
            if c == '"':
                if j + 1 < n and text[j + 1] == '"':
                    j += 2
                    continue
                return j + 1
        else:
            if c == "\\":
                j += 2
                continue
            if c == '"':
                return j + 1
            if c == "\n":
                raise RawXmlError("unterminated string literal in policy expression", None)
        if interpolated and c == "{":
            if j + 1 < n and text[j + 1] == "{":
                j += 2
                continue
            j = scan_code(text, j + 1, "}")
            continue
        j += 1
    raise RawXmlError("unterminated string literal in policy expression", None)


CLOSERS = {"(": ")", "{": "}", "[": "]"}


def scan_code(text: str, j: int, closer: str) -> int:
    """Scan C# code from j until the bracket `closer` that balances; return the index after it."""
    n = len(text)
    stack = [closer]
    while j < n:
        m = _CODE_STOP.search(text, j)
        if m is None:
            break
        j = m.start()
        c = m.group(0)
        if c in CLOSERS:
            stack.append(CLOSERS[c])
        elif c in ")}]":
            if c == stack[-1]:
                stack.pop()
                if not stack:
                    return j + 1
            # a stray closer: tolerate, C# would have rejected it anyway
        elif c == '"':
            prefix = text[max(0, j - 2) : j]
            verbatim = prefix.endswith("@") or prefix in ("@$", "$@")
            interpolated = prefix.endswith("$") or prefix in ("@$", "$@")
            j = _skip_string(text, j + 1, verbatim, interpolated)
            continue
        elif c == "'":
            end = _char_literal_end(text, j)
            if end:
                j = end
                continue
        elif c == "/" and j + 1 < n and text[j + 1] == "/":
            nl = text.find("\n", j)
            j = n if nl < 0 else nl
            continue
        elif c == "/" and j + 1 < n and text[j + 1] == "*":
            end = text.find("*/", j + 2)
            if end < 0:
                raise RawXmlError("unterminated comment in policy expression", None)
            j = end + 2
            continue
        j += 1
    raise RawXmlError("policy expression is not closed (unbalanced brackets)", None)


def _char_literal_end(text: str, j: int) -> int | None:
    if text.startswith("\\", j + 1):
        end = text.find("'", j + 2, j + 12)
    else:
        end = j + 2 if text.startswith("'", j + 2) else -1
    return end + 1 if end > 0 else None


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}


_ESCAPE_PLAIN = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)|[<>]")


_ESCAPE_QUOTED = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)|[<>\"']")


def _escape(segment: str, quote: str | None) -> str:
    """XML-escape `<`, `>`, a bare `&` (entities are kept) and, inside expressions, quotes."""
    pattern = _ESCAPE_QUOTED if quote is not None else _ESCAPE_PLAIN
    return pattern.sub(lambda m: _ESCAPES[m.group(0)[0]], segment)


def to_wellformed(text: str) -> str:
    """Escape policy expressions and stray `<`/`&` so lxml can read a rawxml document.

    Keeps every newline where it was. Well-formed input comes out unchanged.
    """
    out: list[str] = []
    i = 0
    n = len(text)
    try:
        while i < n:
            c = text[i]
            if c == "<":
                if text.startswith("<!--", i):
                    end = text.find("-->", i + 4)
                    if end < 0:
                        raise RawXmlError("unclosed comment", _line_at(text, i))
                    body = text[i + 4 : end].replace("--", "- ")  # `--` inside comments is illegal XML
                    out.append("<!--" + body + "-->")
                    i = end + 3
                elif text.startswith("<![CDATA[", i):
                    end = text.find("]]>", i)
                    if end < 0:
                        raise RawXmlError("unclosed CDATA section", _line_at(text, i))
                    out.append(text[i : end + 3])
                    i = end + 3
                elif text.startswith("<!", i):
                    raise RawXmlError("DOCTYPE and entity declarations are not allowed in policies", _line_at(text, i))
                elif text.startswith("<?", i):
                    end = text.find("?>", i)
                    if end < 0:
                        raise RawXmlError("unclosed processing instruction", _line_at(text, i))
                    out.append(" " * (end + 2 - i))  # drop PIs, keep columns
                    i = end + 2
                elif i + 1 < n and _NAME_START.match(text, i + 1):
                    i = _copy_tag(text, i, out)
                else:
                    out.append("&lt;")
                    i += 1
            else:
                i = _copy_text(text, i, out)
    except RawXmlError as exc:
        if exc.line is None:
            exc.line = _line_at(text, i)
        raise
    return "".join(out)


_TEXT_STOP = re.compile(r"<|@[({]")


_TAG_STOP = re.compile(r"[>\"'<]")


_CODE_STOP = re.compile(r"[()\[\]{}\"'/]")


_STRING_STOP = re.compile(r'["\\\n{]')


def _copy_text(text: str, i: int, out: list[str]) -> int:
    while True:
        m = _TEXT_STOP.search(text, i)
        if m is None or m.group(0) == "<":
            stop = len(text) if m is None else m.start()
            out.append(_escape(text[i:stop], None))
            return stop
        at = m.start()
        out.append(_escape(text[i:at], None))
        end = _scan_expression(text, at)
        out.append(_escape(text[at:end], '"'))
        i = end


def _scan_expression(text: str, i: int) -> int:
    try:
        return scan_code(text, i + 2, CLOSERS[text[i + 1]])
    except RawXmlError as exc:
        raise RawXmlError(f"{exc} (expression starts here)", _line_at(text, i)) from None


def _copy_tag(text: str, i: int, out: list[str]) -> int:
    start = i
    i += 1
    while True:
        m = _TAG_STOP.search(text, i)
        if m is None:
            break
        i = m.start()
        c = m.group(0)
        if c == ">":
            out.append(text[start : i + 1])
            return i + 1
        if c in "\"'":
            out.append(text[start : i + 1])
            i = _copy_attr_value(text, i + 1, c, out)
            start = i
            continue
        raise RawXmlError("unexpected '<' inside a tag (missing '>'?)", _line_at(text, i))
    raise RawXmlError("tag is not closed", _line_at(text, start))


def _copy_attr_value(text: str, i: int, quote: str, out: list[str]) -> int:
    """Copy an attribute value up to and including its closing quote; return the index after it."""
    start = i
    value_start = i
    stop = re.compile(re.escape(quote) + r"|@[({]")
    while True:
        m = stop.search(text, i)
        if m is None:
            break
        i = m.start()
        if m.group(0) == quote:
            out.append(_escape(text[start:i], None))
            out.append(quote)
            return i + 1
        out.append(_escape(text[start:i], None))
        end = _scan_expression(text, i)
        out.append(_escape(text[i:end], quote))
        i = start = end
    raise RawXmlError("attribute value is not closed", _line_at(text, value_start))


def tag_end(text: str, i: int) -> int:
    """Index after the tag that starts at text[i] ('<'), attribute values and expressions in them skipped as the
    gateway reads them (a `>` or `"` inside `@(...)` does not end the tag). Raises RawXmlError."""
    return _copy_tag(text, i, [])


def text_end(text: str, i: int) -> int:
    """Index of the next markup '<' after text[i], expressions in the text skipped (`@(a < b)` is text)."""
    return _copy_text(text, i, [])
