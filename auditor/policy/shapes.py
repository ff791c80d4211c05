"""What a generated credential looks like, as opposed to a word, an identifier, a path or a GUID: the shape
half of secret detection (secrets.py holds the places and the named patterns)."""

from __future__ import annotations

import math
import re
from collections import Counter

TOKEN = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
CODE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(.*)?")


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _wordlike(s: str) -> bool:
    """Written by a person: camelCase / PascalCase / kebab / path words (`jwtSignatureBase64UrlEncoded`,
    `org/2001/XMLSchema-instance`). Generated strings break into pieces of one or two characters."""
    pieces = _PIECES.findall(s)
    return bool(pieces) and sum(map(len, pieces)) / len(pieces) >= 3.2


def high_entropy(token: str) -> bool:
    """A literal that looks generated rather than written: 32+ hex characters with letters and digits, or a
    24+ character base64/base62 run mixing upper case, lower case and digits with near-random entropy.
    Identifiers, paths, kebab-case names and GUIDs (ids, not secrets) do not qualify."""
    t = token.strip("=")
    if _HEX.fullmatch(t):
        return any(c.isdigit() for c in t) and any(c.isalpha() for c in t) and _entropy(t) >= 3.0
    if len(t) < 24 or GUID.search(t) or _wordlike(t):
        return False
    if sum(c.isupper() for c in t) < 2 or sum(c.islower() for c in t) < 2 or sum(c.isdigit() for c in t) < 2:
        return False
    if t.count("-") + t.count("/") + t.count("_") > len(t) // 6:
        return False
    return _entropy(t) >= min(4.2, math.log2(len(t)) - 0.5)


def credential_shaped(value: str) -> bool:
    """A value that could be a credential rather than a word, a number, a code path or an identifier."""
    s = value.strip()
    if len(s) < 6 or s.isdigit() or s.lower() in ("true", "false", "null", "none", "fetch", "required"):
        return False
    if re.fullmatch(r"[a-z]+(?:[-_. ][a-z]+)*", s) or CODE.fullmatch(s):
        return False
    has_digit = any(c.isdigit() for c in s)
    if _wordlike(s) and not has_digit:
        return False
    return has_digit or bool(re.search(r"[+/=!#$%^&*~]", s)) or (any(c.isupper() for c in s[1:]) and
                                                                 any(c.islower() for c in s))


_WORD_START = re.compile(r"[^\s\"'<>()]*")


def in_url_path(text: str, start: int) -> bool:
    """A token inside the path of a URL (`https://host/d599f1.../x`): ids, not credentials (query credentials
    are found by name)."""
    head = text[max(0, start - 300):start]
    # the word ending here, found by matching the reversed head from its start: a `...$` search would try
    # every start position (300 x 300 steps per token)
    word = _WORD_START.match(head[::-1]).group(0)[::-1]  # type: ignore[union-attr]
    return "://" in word and "?" not in word
