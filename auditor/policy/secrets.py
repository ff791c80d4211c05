"""Find and redact secrets before any text enters the estate, so no output, snapshot or log can leak them.

Two kinds of evidence, used together (SECURITY.md lists both):
- the PLACE: a value in a credential-bearing place is a secret whatever it looks like (a header or query
  parameter named like a credential, `authentication-certificate` body/password, `authentication-basic`
  password, `validate-jwt` keys, a credential field in a JSON body, a C# string assigned to a key-like name);
- the SHAPE: connection-string keys, SAS signatures, JWTs, bearer tokens, provider key formats, and
  high-entropy literals (32+ hex characters, long mixed base64/base62 runs) wherever they stand.
The shapes are judged in shapes.py. A cache key, a rate-limit counter key or a status `code` is a name in the policy language, not a place that
holds a credential: those are judged by shape alone.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache, partial

from .literals import replace_literals
from .places import connection_password
from .shapes import CODE, GUID, TOKEN, credential_shaped, high_entropy, in_url_path

REDACTED = "***redacted***"

# Name segments (split on - _ . space) that make a header, query parameter, variable or JSON field a
# credential place: `api-key`, `x-api-token`, `x-ms-client-key`, `Ocp-Apim-Subscription-Key`, `client_secret`.
_CREDENTIAL_SEGMENTS = frozenset({
    "key", "apikey", "secret", "password", "passwd", "pwd", "token", "authorization", "signature", "sig", "sas",
    "credential", "credentials", "cookie", "passphrase", "accesskey", "secretkey", "privatekey", "clientsecret",
    "accesstoken", "refreshtoken", "apitoken", "authtoken", "subscriptionkey", "sharedaccesskey", "connectionstring",
})
# Segments that turn a key-like name into something else: `x-cache-key`, `rate-limit-key`, `token-count`.
_NOT_CREDENTIAL = frozenset({"cache", "counter", "idempotency", "partition", "routing", "limit", "count", "tokens",
                             "usage", "remaining", "consumed", "prompt", "completion", "total", "name", "id",
                             "type", "header", "variable", "length", "expiry", "expires", "lifetime"})
# Query parameters that carry a credential in a URL (`?code=` is Azure Functions' key, `?sig=` a SAS signature).
_URL_PARAMS = ("api-key", "api_key", "apikey", "x-api-key", "code", "sig", "signature", "key", "token",
               "access_token", "access-token", "subscription-key", "subscription_key", "client_secret",
               "client-secret", "secret", "password", "pwd", "auth", "sas", "sv_sig")

# Attributes that carry a credential on any element when literal (`key` is NOT one: it is the cache key of
# cache-lookup-value / cache-store-value / cache-remove-value).
SECRET_ATTRIBUTES = frozenset({"password", "client-secret", "secret", "api-key", "subscription-key", "access-key",
                               "sas-token", "connection-string"})
# (element, attribute) pairs that hold a credential whatever they look like.
SECRET_PLACES = frozenset({
    ("authentication-certificate", "body"),
    ("authentication-certificate", "password"),
    ("authentication-basic", "password"),
})
# Elements whose text is a key when they sit under these parents (validate-jwt, validate-azure-ad-token).
KEY_PARENTS = frozenset({"issuer-signing-keys", "decryption-keys"})
# Elements whose `name` attribute names the credential place of their <value> children (or `value` attribute).
NAMED_PLACES = frozenset({"set-header", "set-query-parameter", "set-variable"})


@lru_cache(maxsize=4096)  # the same few header and variable names recur in every policy
def credential_name(name: str, *, url: bool = False) -> bool:
    """Does a header / query parameter / variable / field name say it holds a credential?"""
    low = name.strip().lower()
    if not low:
        return False
    if url and low in _URL_PARAMS:
        return True
    squashed = re.sub(r"[-_. ]", "", low)
    segments = [s for s in re.split(r"[-_. ]+|(?<=[a-z])(?=[A-Z])", name.strip()) if s]
    words = {s.lower() for s in segments}
    if words & _NOT_CREDENTIAL:
        return False
    if words & _CREDENTIAL_SEGMENTS or squashed in _CREDENTIAL_SEGMENTS:
        return True
    return any(squashed.endswith(s) for s in ("apikey", "secret", "password", "accesskey", "subscriptionkey",
                                              "clientkey", "apitoken", "accesstoken", "authtoken", "functionkey"))


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    group: int = 0  # the part of the match to redact
    name_group: int = 0  # when set, the name the value is written under must be a credential name
    weak: bool = False  # prose and code name credentials without holding one: the value must look like one


_CRED_WORDS = (r"(?:api[-_]?key|apikey|subscription[-_]?key|client[-_]?secret|secret|password|passwd|pwd|"
               r"access[-_]?token|refresh[-_]?token|auth[-_]?token|token|access[-_]?key|private[-_]?key|"
               r"sas[-_]?token|signature|sharedaccesskey|connection[-_]?string|key)")
# A whole name (a run of [\w.-] that does not start or end mid-run) holding a credential word within its first
# 64 characters. Bounded and anchored at both ends of the run so a `key-key-key-...` run is tried once per
# run, not once per word and split (the unbounded `[\w.-]*WORD[\w.-]*` was cubic in the run's length).
_NAME = r"(?<![\w.-])(?=[\w.-]{0,64}?" + _CRED_WORDS + r")([\w.-]{1,128})(?![\w.-])"
_ANY_NAME = r"(?<![\w.-])([\w.-]{1,128})(?![\w.-])"
_VALUE_END = r"[^\"'<>\s&;,)}\]]"

PATTERNS = (
    _Pattern(
        "connection string key",
        re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey|Password|Pwd)=([^;\"'<\s]{6,})"),
        1,
    ),
    _Pattern("SAS token signature", re.compile(r"(?i)(?:[?&;]|\b)sig=([A-Za-z0-9%+/=_-]{10,})"), 1),
    _Pattern(
        "SharedAccessSignature",
        re.compile(r"(?i)SharedAccessSignature\s+([^\"'<\s]*sig=[^\"'<\s&{}]{10,}[^\"'<\s]*)"),
        1,
    ),
    _Pattern("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    _Pattern("instrumentation key", re.compile(r"(?i)InstrumentationKey\s*=\s*([0-9a-f-]{32,36})"), 1),
    _Pattern("bearer token", re.compile(r"(?i)\bBearer\s+([A-Za-z0-9._~+/-]{20,}=*)"), 1),
    _Pattern("basic credentials", re.compile(r"(?<![\w-])Basic\s+([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"), 1),
    _Pattern("OpenAI API key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), 0),
    _Pattern("provider access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b"
                                               r"|\bxox[abpr]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}\b"), 0),
    # user:password@ in a URL (a base-url, a service URL, a backend URL): RFC 3986 section 3.2.1 userinfo
    _Pattern("credentials in a URL", re.compile(
        r"(?i)\b[a-z][a-z0-9+.-]{0,20}://[^/\s:@\"'<>{}]{1,128}:([^/\s@\"'<>]{1,256})@"), 1),
    _Pattern("private key",
             re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"), 0),
    # a credential query parameter in a URL: ?api-key= ?code= ?key= ?token= (`&amp;` in raw XML ends in `;`)
    _Pattern("credential in a URL query", re.compile(
        r"(?i)[?&;](?:" + "|".join(re.escape(p) for p in _URL_PARAMS) + r")=(" + _VALUE_END + r"{8,})"), 1, weak=True),
    # a credential field in JSON (set-body, expression strings): "apiKey": "..."
    _Pattern("credential field in JSON", re.compile(
        r"(?i)[\"']" + _NAME + r"[\"']\s*:\s*[\"']([^\"'{}@\[\]<>\s][^\"'<>]{3,})[\"']"), 2, 1, weak=True),
    # a C# string literal assigned to, or passed with, a credential name: apiKey = "...", ("api-key", "...")
    _Pattern("credential string in an expression", re.compile(
        r"(?i)\b" + _NAME + r"\s*=\s*@?\"([^\"{}\s][^\"]{5,})\""), 2, 1, weak=True),
    _Pattern("credential string in an expression", re.compile(
        r"(?i)\"" + _NAME + r"\"\s*,\s*@?\"([^\"{}\s][^\"]{5,})\""), 2, 1, weak=True),
    # form bodies: client_secret=...&
    _Pattern("credential in a form body", re.compile(
        r"(?i)(?:^|[\"&?\s])" + _NAME + r"=(" + _VALUE_END + r"{8,})"), 2, 1, weak=True),
)
# `key: value` / `password=value` written in prose: applied to XML comments and unparsed text only
COMMENT_PATTERNS = (
    _Pattern("credential value", re.compile(
        r"(?i)\b" + _NAME + r"\s*[:=]\s*[\"']?([A-Za-z0-9+/=_~.-]{12,})"), 2, 1, weak=True),
)

# Raw XML of a document that could not be parsed: credential places written as attributes and elements.
_RAW_XML_PATTERNS = (
    _Pattern("credential attribute", re.compile(
        r"(?i)\b(?:password|client-secret|secret|api-key|subscription-key|access-key|sas-token|connection-string|body)"
        r"\s*=\s*[\"']([^\"']{4,})[\"']"), 1),
    _Pattern("credential element", re.compile(r"(?is)<key\b[^>]{0,300}>([^<]{4,})</key>"), 1),
    # every credential-named header, query parameter and variable (Authorization, Cookie, api-key ...): any name,
    # judged by credential_name() like a parsed policy's places, the value up to the next tag (closed or not)
    _Pattern("credential header value", re.compile(
        r"(?is)name\s*=\s*[\"']" + _ANY_NAME + r"[\"'][^>]{0,300}>\s*<value>([^<]{3,})"), 2, 1),
    _Pattern("credential variable", re.compile(
        r"(?is)<set-variable\b[^>]{0,300}?name\s*=\s*[\"']" + _ANY_NAME + r"[\"'][^>]{0,300}?value\s*=\s*[\"']"
        r"([^\"']{3,})"), 2, 1),
)

_PLACEHOLDER = re.compile(
    r"^(?:\{[^{}]*\}|\{\{[^{}]*\}\}|\$\{[^}]*\}|\$\([^)]*\)|#\{[^}]*\}#?|__[A-Za-z0-9_]+__|<[^<>]*>|%[A-Za-z0-9_]+%|"
    r"\*+|x+|X+|\.\.\.|\[[^\]]*\])$"
)
_EXPR_OR_REF = re.compile(r"^\s*(?:@[({]|\[)|\{\{")


def is_literal(value: str) -> bool:
    """A value the gateway takes as written: not a policy expression, not a {{named value}}, not an ARM
    expression or a template placeholder (`{backend-id}`, `${var}`, `#{var}#`, `__TOKEN__`)."""
    v = value.strip()
    if not v or _EXPR_OR_REF.search(v):
        return False
    return not _PLACEHOLDER.match(v)


def _bare(value: str) -> str:
    """The credential inside an Authorization-style value: `Bearer X`, `Basic X`, `SharedAccessSignature X`."""
    m = re.match(r"(?i)^\s*(?:Bearer|Basic|Token|ApiKey|Key|SharedAccessSignature|SSWS|Digest)\s+(\S.*)$", value)
    return m.group(1).strip() if m else value.strip()


def secret_in_place(value: str, strong: bool = True) -> str | None:
    """The literal credential held by a credential place, or None when the value is not literal. A `strong`
    place (a password attribute, an `api-key` header) takes any literal; a place known only by a name that
    merely mentions a credential (`X-CSRF-Token: Fetch`) needs a value shaped like one."""
    if not is_literal(value):
        return None
    secret = _bare(value)
    if not is_literal(secret) or len(secret) < 3:
        return None
    return secret if strong or credential_shaped(secret) else None


# Names whose literal value is a credential whatever it looks like.
STRONG_NAMES = frozenset({
    "api-key", "x-api-key", "apikey", "api_key", "ocp-apim-subscription-key", "subscription-key", "authorization",
    "proxy-authorization", "x-functions-key", "x-goog-api-key", "anthropic-api-key", "x-ms-client-key",
    "x-api-token", "client_secret", "client-secret", "password", "code", "sig",
})


_KEYWORDS = ("accountkey", "sharedaccesskey", "password", "pwd", "sig=", "sharedaccesssignature", "eyj",
             "instrumentationkey", "bearer", "basic", "sk-", "key", "token", "secret", "code=", "akia", "asia",
             "gh", "xox", "aiza", "private", "auth", "sas", "signature", "passwd", "credential")


_CRED_SUBSTRINGS = ("key", "secret", "passw", "pwd", "token", "signature", "sas", "connection", "sig", "authorization",
                    "cookie", "credential", "passphrase")
# What a pattern's text must contain before its regex runs (each group: one of its substrings, lower case):
# a cheap substring test spares running every regex over every value.
_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "connection string key": (("accountkey=", "sharedaccesskey=", "password=", "pwd="),),
    "SAS token signature": (("sig=",),),
    "SharedAccessSignature": (("sharedaccesssignature",),),
    "JSON web token": (("eyj",),),
    "instrumentation key": (("instrumentationkey",),),
    "bearer token": (("bearer",),),
    "basic credentials": (("basic",),),
    "OpenAI API key": (("sk-",),),
    "provider access key": (("akia", "asia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "aiza"),),
    "private key": (("private key",),),
    "credentials in a URL": (("://",), ("@",)),
    "credential in a URL query": (("=",),),
}
_NAMED_NEEDS = (("=", ":", '",'), _CRED_SUBSTRINGS)


def _needs(pattern: _Pattern) -> tuple[tuple[str, ...], ...]:
    return _NEEDS.get(pattern.kind, _NAMED_NEEDS if pattern.name_group else ())


def _wanted(pattern: _Pattern, low: str) -> bool:
    return all(any(n in low for n in group) for group in _needs(pattern))


def _gate(patterns: tuple[_Pattern, ...]) -> tuple[str, ...] | None:
    """Substrings one of which every pattern needs (None when some pattern needs nothing)."""
    firsts: set[str] = set()
    for pattern in patterns:
        needs = _needs(pattern)
        if not needs:
            return None
        firsts.update(needs[0])
    return tuple(sorted(firsts))


def _has_keyword(text: str) -> bool:
    low = text.lower()
    return any(k in low for k in _KEYWORDS)  # substring tests: far faster than one alternation regex


def might_contain_secret(text: str) -> bool:
    """Cheap pre-check: every generic pattern needs one of these words, or a long token (case-insensitive)."""
    return _has_keyword(text) or ("@" in text and "://" in text) or TOKEN.search(text) is not None


@dataclass(frozen=True)
class Hit:
    kind: str
    secret: str
    report: bool  # strong enough for SEC001; every hit is redacted either way


_PATTERN_GATE = _gate(PATTERNS) or ("",)


def find_secrets(text: str, patterns: tuple[_Pattern, ...] = (), entropy_reports: bool = True) -> list[Hit]:
    """Secrets found by shape: the generic patterns (plus `patterns`), then high-entropy literals. Every hit is
    to be redacted; `report` says whether it is evidence enough for SEC001."""
    found: list[tuple[int, int, Hit]] = []  # one hit per stretch of text, kept sorted and disjoint
    if len(text) < 8:  # no credential shape is shorter
        return []

    def add(start: int, end: int, hit: Hit) -> None:
        # the spans held are disjoint and sorted, so only the last one starting before `end` can overlap:
        # a bisection instead of a scan of every hit (40,000 hits were 800 million comparisons)
        at = bisect.bisect_left(found, (end,))
        if at and found[at - 1][1] > start:
            return
        found.insert(at, (start, end, hit))

    low = text.lower()
    for pattern in (*PATTERNS, *patterns) if any(n in low for n in _PATTERN_GATE) or patterns else ():
        if _wanted(pattern, low):
            for match in pattern.regex.finditer(text):
                verdict = _judge(pattern, match)
                if verdict:
                    add(*match.span(pattern.group), Hit(pattern.kind, match.group(pattern.group), verdict == "report"))
    for match in TOKEN.finditer(text):
        if high_entropy(match.group(0)) and not in_url_path(text, match.start()):
            add(*match.span(), Hit("high-entropy literal", match.group(0), entropy_reports))
    return [hit for _s, _e, hit in found]


def find_patterns(text: str, patterns: tuple[_Pattern, ...] = ()) -> list[tuple[str, str]]:
    """(kind, secret) of the hits strong enough to report."""
    return [(h.kind, h.secret) for h in find_secrets(text, patterns) if h.report]


def _judge(pattern: _Pattern, match: re.Match[str]) -> str | None:
    """None (not a secret), "redact" (could be one: kept out of every output, not reported) or "report".
    Names and prose mention credentials without holding one (`cacheKey = "list"`, `token=count`,
    `?code=200`): a weak pattern needs a credential name and a credential-shaped value."""
    secret = match.group(pattern.group)
    if not secret or not is_literal(secret) or REDACTED in secret:
        return None
    s = secret.strip()
    if pattern.group and (s[:1] in "{@$[(%" or ("{" in s and "}" in s) or CODE.fullmatch(s)):
        return None  # an interpolation, a format placeholder or code: `sig={1}`, `password = result.Length`
    if pattern.name_group and not credential_name(match.group(pattern.name_group), url=True):
        return None
    if not pattern.weak:
        return "report"
    if GUID.fullmatch(s):
        return "redact"  # ids look like this far more often than keys do
    return "report" if credential_shaped(s) else None


def _redact_with(text: str, patterns: tuple[_Pattern, ...]) -> str:
    low = text.lower()
    for pattern in patterns:
        if not _wanted(pattern, low):
            continue
        if pattern.group:
            text = pattern.regex.sub(partial(_sub_group, pattern=pattern), text)
        else:
            text = pattern.regex.sub(REDACTED, text)
    return text


def redact(text: str, extra: tuple[str, ...] | list[str] = (), shapes: bool = True) -> str:
    """Replace every known secret in text; `extra` holds literal secrets found structurally (each also in
    its XML-escaped spellings, and line by line when it spans lines, as it appears in the raw file).
    `shapes=False` when every part of the text that could hold a secret was already searched (a parsed
    policy's values and comments) and `extra` holds all it found."""
    if not text:
        return text
    if not extra and not (shapes and might_contain_secret(text)):
        return text
    if extra:
        text = replace_literals(text, _spellings(extra))
    if not shapes:
        return text
    text = _redact_with(text, PATTERNS)
    return TOKEN.sub(lambda m: REDACTED if high_entropy(m.group(0)) and not in_url_path(m.string, m.start())
                      else m.group(0), text)


def redact_unparsed(text: str) -> str:
    """Text that could not be parsed (a broken policy): places are found by raw-XML and prose patterns too."""
    return redact(_redact_with(text, (*_RAW_XML_PATTERNS, *COMMENT_PATTERNS)))


def _spellings(extra) -> set[str]:
    out: set[str] = set()
    for s in extra:
        if not s or len(s.strip()) < 3:
            continue
        for form in (s, _xml_escape(s, False), _xml_escape(s, True)):
            out.add(form)
            if any(c.isspace() for c in form):  # an attribute's newline or tab is a space once parsed
                out.update(part for part in form.split() if len(part) >= 3)
    return out


def _xml_escape(s: str, quotes: bool) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace('"', "&quot;").replace("'", "&apos;") if quotes else s


def _sub_group(match: re.Match[str], pattern: _Pattern) -> str:
    whole = match.group(0)
    if not _judge(pattern, match):
        return whole
    start, end = match.span(pattern.group)
    offset = match.start(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]


def credential_kind(name: str, value: str) -> str | None:
    """Why a plain (non-secret) named value looks like a credential, or None."""
    hits = find_patterns(value)
    if hits:
        return hits[0][0]
    if connection_password(value) is not None:
        return "a connection string password"
    if credential_name(name) and is_literal(value) and len(value.strip()) >= 8:
        return f"a plain value under a credential-like name '{name}'"
    return None
