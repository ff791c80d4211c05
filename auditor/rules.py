"""Rule metadata and the registry that discovers checks through the `aoai_audit.checks` entry-point group.

A check is any object (usually a module) with a `RULE` and a `check(ctx) -> Iterable[Finding]`.
Built-in rules are registered through the same entry points as third-party ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from .findings import RULE_ID, Finding, Location, Severity

if TYPE_CHECKING:
    from .context import AuditContext

ENTRY_POINT_GROUP = "aoai_audit.checks"
AREAS = {
    "TM": "Token metrics",
    "HD": "Caller identity and attribution headers",
    "ST": "Streaming",
    "DG": "Diagnostic settings and logging",
    "RB": "Access for the reporting principal",
    "KQ": "Usage in Log Analytics",
    "BY": "Bypass",
    "OW": "Ownership of LLM spend",
    "AU": "The audit's own health",
    "SEC": "Secrets",
}
DOCS_BASE = "https://github.com/aoai-audit/aoai-audit/blob/main/docs/rules"
# The attribution chain of an LLM API, link by link, in the order money travels (the HTML report draws it): a rule
# names in `Rule.chain_link` the link its findings break.
CHAIN_LINKS: tuple[tuple[str, str], ...] = (
    ("identity", "Caller identity"),
    ("header", "Attribution header"),
    ("dimension", "Metric dimension"),
    ("destination", "Logs / metrics destination"),
    ("price", "Price"),
    ("cost_centre", "Cost centre"),
)


# Which figure prices a finding (auditor/exposure.py). Loss: what the gap sent to no team in the window.
LOSS_UNKNOWN = "unknown"  # gateway tokens through the resource that landed in the unknown bucket
LOSS_UNMETERED = "unmetered"  # what the resource's accounts served that no gateway metered
LOSS_COST = "cost"  # everything the account or deployment cost (no team is charged for any of it)
LOSS_NONE = "none"  # the gap lost nothing by itself in the window: 0 (what it puts at risk is shown apart)
# At risk: what merely flows through the resource, shown apart from the loss, never ranked.
RISK_THROUGH = "through"  # everything the gateway metered through the resource's APIs
RISK_SERVED = "served"  # everything the account served


@dataclass(frozen=True)
class Stake:
    """The figures a rule's findings carry, declared in the rule's own metadata: the loss ranks the gaps; what is
    at risk is said beside it and never added to anything."""

    loss: str = LOSS_NONE
    at_risk: str | None = None


@dataclass(frozen=True)
class Part:
    """One requirement of a rule that a source may carry without the others: judged wherever its data is, so a
    source carrying part of a rule's data is judged on that part, and the report says which part."""

    what: str  # what is judged, e.g. "the azuremonitor diagnostic's LLM logging"
    requires: frozenset[str]


@dataclass(frozen=True)
class Rule:
    """Everything a person needs to understand and fix a finding; docs are generated from it."""

    id: str
    title: str
    severity: Severity
    rationale: str  # what breaks in the chargeback when it fires
    detection: str  # how it is detected
    fix: str  # what to do
    fix_snippet: str = ""  # policy or setting to paste
    references: tuple[tuple[str, str], ...] = ()  # (title, url) of the Azure docs it relies on
    requires: frozenset[str] = field(default_factory=frozenset)  # estate kinds it needs
    # Requirements judged separately (on top of `requires`): the rule runs when any part's data is carried; the
    # check judges the parts whose data is there, and the report lists the parts it could not judge.
    parts: tuple[Part, ...] = ()
    notes: str = ""
    # Its findings say part of the estate was not audited (could not be read or parsed). They fail the gate at
    # every threshold but `never`, whatever the severity; no baseline or wildcard suppression hides them.
    not_audited: bool = False
    stake: Stake | None = None  # how exposure.py prices its findings; None: not priced (or it prices itself)
    chain_link: str | None = None  # the CHAIN_LINKS key its findings break; None: not a link of the chain

    def __post_init__(self) -> None:
        if self.chain_link is not None and self.chain_link not in dict(CHAIN_LINKS):
            raise ValueError(f"rule {self.id}: chain_link {self.chain_link!r} is none of {', '.join(dict(CHAIN_LINKS))}")

    @property
    def area(self) -> str:
        return re.sub(r"[0-9]+$", "", self.id)

    @property
    def area_title(self) -> str:
        return AREAS.get(self.area, self.area)

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE}/{self.id}.md"

    def finding(
        self,
        resource: str,
        message: str,
        *,
        location: Location | None = None,
        evidence: Iterable[str] = (),
        context: str = "",
        **extra,
    ) -> Finding:
        return Finding(
            rule_id=self.id,
            severity=self.severity,
            resource=resource,
            message=message,
            location=location or Location(),
            evidence=tuple(evidence),
            context=context,
            **extra,
        )


class Check(Protocol):
    RULE: Rule

    def check(self, ctx: AuditContext) -> Iterable[Finding]: ...


@dataclass(frozen=True)
class LoadedCheck:
    rule: Rule
    run: Callable[[AuditContext], Iterable[Finding]]
    provider: str  # distribution that shipped it


@dataclass(frozen=True)
class Registry:
    checks: tuple[LoadedCheck, ...]
    errors: tuple[str, ...] = ()  # plugins that failed to load: reported; the gate fails closed on them
    failed: tuple[str, ...] = ()  # entry-point names (rule ids) of the checks that failed to load

    def rule(self, rule_id: str) -> Rule | None:
        for c in self.checks:
            if c.rule.id == rule_id.upper():
                return c.rule
        return None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(c.rule for c in self.checks)


def _adopt(obj: ModuleType | object, provider: str) -> LoadedCheck:
    rule = getattr(obj, "RULE", None)
    run = getattr(obj, "check", None)
    if not isinstance(rule, Rule) or not callable(run):
        raise TypeError("needs a RULE (aoai_audit.rules.Rule) and a check(ctx) function")
    if not RULE_ID.match(rule.id):
        raise ValueError(f"rule id {rule.id!r} is not like TM001")
    return LoadedCheck(rule, run, provider)


FAST_DISCOVERY = True  # off: always ask importlib.metadata (benchmarks/unoptimised.py)


def _entry_points() -> list:
    """The group's entry points: read from the installed distributions' files where the layout is plain
    (discovery.py, ~35 ms cheaper at start-up), else by importlib.metadata; each has name, value, provider, load()."""
    from .discovery import EntryPoint, entry_points

    found = entry_points(ENTRY_POINT_GROUP) if FAST_DISCOVERY else None
    if found is None:
        from importlib.metadata import entry_points as metadata_entry_points

        names: dict[int, str] = {}  # Distribution.name parses METADATA on every call: once per distribution
        found = []
        for ep in metadata_entry_points(group=ENTRY_POINT_GROUP):
            if ep.dist is not None and id(ep.dist) not in names:
                names[id(ep.dist)] = ep.dist.name or "?"
            found.append(EntryPoint(ep.name, ep.value, names[id(ep.dist)] if ep.dist is not None else "?"))
    return found


def load_registry() -> Registry:
    checks: dict[str, LoadedCheck] = {}
    errors: list[str] = []
    failed: list[str] = []
    for ep in sorted(_entry_points(), key=lambda e: e.name):
        provider = ep.provider
        try:
            loaded = _adopt(ep.load(), provider)
        except Exception as exc:  # a broken plugin must not take the audit down
            errors.append(f"check {ep.name} ({ep.value}) from {provider} failed to load: {exc}")
            failed.append(ep.name.upper())
            continue
        if loaded.rule.id in checks:
            if checks[loaded.rule.id].provider != provider:
                errors.append(
                    f"rule id {loaded.rule.id} from {provider} clashes with {checks[loaded.rule.id].provider}; ignored"
                )
            continue
        checks[loaded.rule.id] = loaded
    ordered = tuple(sorted(checks.values(), key=lambda c: _rule_order(c.rule.id)))
    return Registry(ordered, tuple(errors), tuple(failed))


_AREA_ORDER = list(AREAS)


def _rule_order(rule_id: str) -> tuple[int, str]:
    area = re.sub(r"[0-9]+$", "", rule_id)
    return (_AREA_ORDER.index(area) if area in _AREA_ORDER else len(_AREA_ORDER), rule_id)
