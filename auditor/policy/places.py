"""Credential places found by parsing, not by shape: the literals of an expression in a credential-named header,
query parameter or variable; the values (not the attributes) of a Cookie or Set-Cookie header; the password of
a connection string written with spaces or quotes; and a secret split by CDATA or a comment in the raw text.

Redaction ran on the raw text and missed what the parser joins or normalises; these close that gap. Each function
is linear in its input (bounded repetition only).
"""

from __future__ import annotations

import re

# A C# string literal (regular or verbatim) of a policy expression.
_CS_LITERAL = re.compile(r'@"((?:[^"]|"")*)"|"((?:[^"\\\n]|\\.)*)"')
# Accessors whose first argument is a name, not a value: `Variables["x"]`, `GetValueOrDefault("x", ...)`.
_LOOKUPS = ("getvalueordefault", "trygetvalue", "containskey", "getvalue", "value", "contains", "remove")
_STRING_OPS = ("replace", "split", "startswith", "endswith", "contains", "indexof", "lastindexof", "equals",
               "trim", "trimstart", "trimend", "substring", "compare", "tolower", "toupper", "join", "parse")
_IDENT_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,64})\s*(?:<[^<>()]{0,200}>\s*)?$")
# Authorization schemes (RFC 9110 section 11.4; Azure's SharedAccessSignature): words, not credentials.
_SCHEMES = frozenset({"bearer", "basic", "token", "apikey", "key", "sharedaccesssignature", "ssws", "digest", "negotiate"})
# Set-Cookie attributes (RFC 6265 section 4.1): what follows the first name=value pair is not a secret.
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
# A connection string's credential (ADO.NET / Azure Storage syntax: `Key = value;`, values may be quoted and hold
# spaces): https://learn.microsoft.com/dotnet/framework/data/adonet/connection-string-syntax
_CONNECTION = re.compile(
    r"(?i)(?:^|;)[ \t]{0,64}(?:password|pwd|passwd|accountkey|sharedaccesskey|client[ _]?secret)[ \t]{0,64}=[ \t]{0,64}"
    r"('[^'\n]{0,1024}'|\"[^\"\n]{0,1024}\"|[^;'\"\n][^;\n]{0,1023})")
_SPLITTERS = r"(?:<!\[CDATA\[|\]\]>|<!--(?:[^-]|-(?!->)){0,2000}-->)*"


def expression_literals(expression: str) -> list[str]:
    """The string literals of a one-expression value `@(...)` that are values, in order: `@("abc")` → abc;
    `@(Headers.GetValueOrDefault("api-key", "fallback"))` → fallback. Not the name an accessor looks up, an
    argument of a string operation (`.Replace("Bearer ", "")`), an interpolated string or a scheme word. A
    statement block `@{...}` is code (algorithm names, header names, formats): judged by shape, not here."""
    if not expression.lstrip().startswith("@("):
        return []
    out = []
    for m in _CS_LITERAL.finditer(expression):
        before = expression[max(0, m.start() - 300):m.start()].rstrip()
        if before.endswith(("$", "$@", "@$")):
            continue  # an interpolated string: code around the holes
        if before.endswith("["):
            continue  # an indexer key: Variables["x"], Claims["appid"]
        call, first = _enclosing_call(before)
        if call in _STRING_OPS or (first and call in _LOOKUPS):
            continue  # the name an accessor looks up, or what a string operation works with
        value = m.group(1) if m.group(1) is not None else m.group(2)
        if value.strip().lower() in _SCHEMES:
            continue  # `"Bearer " + token`: the scheme, not the credential
        if value.strip() and not ("{" in value and "}" in value):  # `string.Format("{0}:{1}")`: a template
            out.append(value)
    return out


def _enclosing_call(before: str) -> tuple[str, bool]:
    """The method whose argument list the text `before` ends inside (lower case, "" for none), and whether the
    literal after it is that call's first argument."""
    depth, first = 0, True
    for i in range(len(before) - 1, -1, -1):
        c = before[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            if depth == 0:
                if c == "[":
                    return "", first
                ident = _IDENT_BEFORE.search(before[:i])
                return (ident.group(1).lower() if ident else ""), first
            depth -= 1
        elif c == "," and depth == 0:
            first = False
    return "", first


def cookie_values(header: str, value: str) -> list[str]:
    """The cookie values of a Cookie header (every pair) or a Set-Cookie header (its first pair only): the
    names and the attributes (`Max-Age=0; Path=/; Secure`) are not secrets, and an empty value clears a cookie."""
    pairs = value.split(";")
    if header.strip().lower() == "set-cookie":
        pairs = pairs[:1]
    out = []
    for pair in pairs:
        _name, sep, cookie = pair.partition("=")
        cookie = cookie.strip().strip('"')
        if sep and cookie:
            out.append(cookie)
    return out


def connection_password(value: str) -> str | None:
    """The password or key of a connection string written with spaces or quotes (`Password = x`,
    `Password='a b c'`), which the shape patterns (`Password=x;`) do not see."""
    m = _CONNECTION.search(value)
    if m is None:
        return None
    secret = m.group(1).strip()
    if secret[:1] in ("'", '"'):
        secret = secret[1:-1]
    return secret or None


def split_spelling(secret: str) -> re.Pattern[str] | None:
    """The secret as the raw text may spell it when a parser joined it: CDATA delimiters or comments between
    any two of its characters (`sec<![CDATA[ret]]>`, `secr<!-- x -->et`). None for one character."""
    if len(secret) < 2 or len(secret) > 256:
        return None
    return re.compile(_SPLITTERS.join(re.escape(c) for c in secret))
