"""Findings: what a check reports, with a fingerprint that survives re-runs (for suppressions and baselines)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

from .project_root import is_file_path, project_path

# A rule id (TM001, SEC001): config and rules both read it, so it lives with the findings that carry it.
RULE_ID = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")


class Severity(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]

    def at_least(self, threshold: str) -> bool:
        if threshold == "never":
            return False
        return self.rank >= Severity(threshold).rank


@dataclass(frozen=True, slots=True)
class Location:
    """Where to fix it: a file and line, or an ARM resource id when there is no file."""

    path: str | None = None
    line: int | None = None
    resource_id: str | None = None

    def label(self) -> str:
        if self.path:
            return f"{self.path}:{self.line}" if self.line else self.path
        return self.resource_id or ""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal | float  # Decimal from the engine (auditor/exposure.py); reports round it to cents
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    resource: str  # estate path: "service/apim/apis/chat/operations/create"
    message: str
    location: Location = field(default_factory=Location)
    evidence: tuple[str, ...] = ()  # short redacted excerpts, "line: text"
    context: str = ""  # e.g. "via product 'gold'"; part of the fingerprint
    key: str = ""  # stable discriminator when a rule fires twice on one resource (a dimension name, ...)
    money: Money | None = None
    tokens: int | None = None
    money_basis: str = ""  # what the money and tokens are: which part of the traffic through the resource
    at_risk: Money | None = None  # what merely flows through the resource: shown apart, never ranked or summed
    at_risk_tokens: int | None = None
    at_risk_basis: str = ""
    overlap: str = ""  # the token set its loss counts: findings with the same key share those tokens
    suppressed_by: str | None = None  # reason, when a suppression applies
    in_baseline: bool = False
    fingerprint: str = ""
    not_audited: bool = False  # says part of the estate was not audited (its rule's `not_audited`): see engine

    def with_fingerprint(self, project_root: str = "", estate: str = "") -> Finding:
        """Stable across runs, checkouts and spellings of the scanned path: a resource that is a file path (what
        could not be read) counts relative to the repository root (see project_root.py). `estate`, the file-based
        estate's location relative to that root (estate_identity.py), keeps two extracts of one service apart."""
        resource = self.resource
        if project_root and is_file_path(resource):
            resource = project_path(resource, project_root)
        parts = (self.rule_id, resource, self.context, self.key) + ((estate,) if estate else ())
        key = "\x1f".join(parts)
        return replace(self, fingerprint=hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16])

    @property
    def active(self) -> bool:
        """Counts toward the gate: not suppressed, not known from the baseline."""
        return self.suppressed_by is None and not self.in_baseline

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.rule_id, self.resource, self.context, self.key, self.location.label())
