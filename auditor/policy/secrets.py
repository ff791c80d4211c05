"""Find and redact secrets before any text enters the estate, so no output, snapshot or log can leak them."""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "***redacted***"

# Headers whose literal value is a credential.
SECRET_HEADERS = frozenset(
    {
        "api-key",
        "x-api-key",
        "ocp-apim-subscription-key",
        "authorization",
        "x-functions-key",
        "x-goog-api-key",
        "anthropic-api-key",
    }
)
# Attributes that carry credentials when literal.
SECRET_ATTRIBUTES = frozenset({"password", "client-secret", "secret", "key", "subscription-key", "api-key"})


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    group: int = 0  # the part of the match to redact


PATTERNS = (
    _Pattern(
        "connection string key",
        re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey|Password|Pwd)\s*=\s*([^;\"'<\s]{6,})"),
        1,
    ),
    _Pattern("SAS token signature", re.compile(r"(?i)(?:[?&]|\b)sig=([A-Za-z0-9%+/=]{10,})"), 1),
    _Pattern(
        "SharedAccessSignature",
        re.compile(r"(?i)SharedAccessSignature\s+([^\"'<\s]*sig=[^\"'<\s&]+[^\"'<\s]*)"),
        1,
    ),
    _Pattern("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    _Pattern("instrumentation key", re.compile(r"(?i)InstrumentationKey\s*=\s*([0-9a-f-]{32,36})"), 1),
    _Pattern("bearer token", re.compile(r"(?i)\bBearer\s+([A-Za-z0-9._~+/-]{20,}=*)"), 1),
    _Pattern("OpenAI API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"), 0),
)


_KEYWORDS = ("accountkey", "sharedaccesskey", "password", "pwd", "sig=", "sharedaccesssignature", "eyj",
             "instrumentationkey", "bearer", "sk-")


def might_contain_secret(text: str) -> bool:
    """Cheap pre-check: every generic pattern needs one of these words (case-insensitive)."""
    low = text.lower()
    return any(k in low for k in _KEYWORDS)


def is_literal(value: str) -> bool:
    """A value the gateway takes as written: not a policy expression, not a {{named value}}."""
    v = value.strip()
    return bool(v) and not v.startswith("@") and "{{" not in v and not v.startswith("[")


def find_patterns(text: str) -> list[tuple[str, str]]:
    """Return (kind, secret) pairs found by the generic patterns."""
    hits: list[tuple[str, str]] = []
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(text):
            secret = match.group(pattern.group)
            if secret and "{{" not in secret and not secret.startswith("@"):
                hits.append((pattern.kind, secret))
    return hits


def redact(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """Replace every known secret in text; `extra` holds literal secrets found structurally."""
    if not text:
        return text
    if not extra and not might_contain_secret(text):
        return text
    for secret in sorted({s for s in extra if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in PATTERNS:
        if pattern.group:
            text = pattern.regex.sub(lambda m, g=pattern.group: _sub_group(m, g), text)
        else:
            text = pattern.regex.sub(REDACTED, text)
    return text


def _sub_group(match: re.Match[str], group: int) -> str:
    whole = match.group(0)
    start, end = match.span(group)
    offset = match.start(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]


_CREDENTIAL_NAME = re.compile(r"(?i)(^|[-_. ])(api[-_]?key|key|secret|password|pwd|token|sas|connection[-_]?string|conn[-_]?str)s?($|[-_. ])")


def credential_kind(name: str, value: str) -> str | None:
    """Why a plain (non-secret) named value looks like a credential, or None."""
    hits = find_patterns(value)
    if hits:
        return hits[0][0]
    if _CREDENTIAL_NAME.search(name) and is_literal(value) and len(value.strip()) >= 8:
        return f"a plain value under a credential-like name '{name}'"
    return None
