"""Replace many known literals in a text in one pass, so redaction costs the text's length, not literals × length.

A policy can hold tens of thousands of literals found by place; replacing them one `str.replace` at a time
read a 3 MB text once per literal. Up to `_FEW` literals the C-speed replace is the faster way; beyond that,
every position is looked up once in a table keyed by the literals' first characters.
"""

from __future__ import annotations

import re

_FEW = 32
_KEY = 8  # every literal of at least this length is found by its first 8 characters
# a short literal counts only where it stands alone, so `<base />` survives a password "base" (after `;` too: the
# end of `&quot;` around a literal of an expression in an attribute)
_BEFORE = frozenset("\"'>=; \t\r\n\f\v")
_AFTER = frozenset("\"'<&; \t\r\n\f\v")


def replace_literals(text: str, literals: set[str] | frozenset[str], replacement: str = "***redacted***") -> str:
    """`text` with every literal (longest first where they overlap) replaced; literals shorter than 8
    characters only where they stand alone (after a quote, `>`, `=`, `;` or space; before a quote, `<`, `&`, `;`,
    space or the end)."""
    longs = sorted((s for s in literals if len(s) >= _KEY), key=len, reverse=True)
    shorts = sorted((s for s in literals if 0 < len(s) < _KEY), key=len, reverse=True)
    if len(longs) <= _FEW:
        for secret in longs:
            text = text.replace(secret, replacement)
    else:
        text = _table_replace(text, longs, replacement)
    if not shorts:
        return text
    if len(shorts) <= _FEW:
        for secret in shorts:
            text = re.sub(r"(?<=[\"'>=;\s])" + re.escape(secret) + r"(?=[\"'<\s&;]|$)", replacement, text)
        return text
    return _short_replace(text, shorts, replacement)


def _table_replace(text: str, longs: list[str], replacement: str) -> str:
    table: dict[str, list[str]] = {}
    for secret in longs:  # longest first within each bucket
        table.setdefault(secret[:_KEY], []).append(secret)
    out: list[str] = []
    i = done = 0
    end = len(text) - _KEY + 1
    get = table.get
    while i < end:
        bucket = get(text[i:i + _KEY])
        if bucket:
            hit = next((s for s in bucket if text.startswith(s, i)), None)
            if hit:
                out.append(text[done:i])
                out.append(replacement)
                i = done = i + len(hit)
                continue
        i += 1
    out.append(text[done:])
    return "".join(out)


def _short_replace(text: str, shorts: list[str], replacement: str) -> str:
    by_len: dict[int, set[str]] = {}
    for secret in shorts:
        by_len.setdefault(len(secret), set()).add(secret)
    lengths = sorted(by_len, reverse=True)
    out: list[str] = []
    i = done = 0
    n = len(text)
    while i < n:
        if i and text[i - 1] in _BEFORE:
            hit = next((n_ for n_ in lengths if text[i:i + n_] in by_len[n_]
                        and (i + n_ == n or text[i + n_] in _AFTER)), 0)
            if hit:
                out.append(text[done:i])
                out.append(replacement)
                i = done = i + hit
                continue
        i += 1
    out.append(text[done:])
    return "".join(out)
