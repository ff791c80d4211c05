"""What a fix run plans, proves and reports: repairs tied to the findings they close, and what it left alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from .edits import Edit

# A finding as the proof compares it before and after a fix: rule, resource, context, key (its fingerprint parts).
Identity = tuple[str, str, str, str]


@dataclass(frozen=True)
class Option:
    """One way to make a repair: the edits and what the reviewer reads about them."""

    summary: str  # "include fragment 'emit-team-tokens'", "restore <base />"
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Repair:
    """A mechanical change tied to the findings it must close; its options are tried in order until one is proven."""

    rule_id: str
    target: str  # the resource whose policy changes
    path: str  # the file that changes (as given to the tool)
    closes: tuple[Identity, ...]
    options: tuple[Option, ...]
    line: int | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Applied:
    """A repair the re-audit proved: the findings it names are gone and no finding appeared."""

    repair: Repair
    option: Option
    closed: tuple[Identity, ...]  # every finding gone after it, named or not


@dataclass(frozen=True)
class Declined:
    """A finding of a fixable rule left as it is, and why (owned by one team, nothing to copy, not proven)."""

    rule_id: str
    resource: str
    reason: str


@dataclass(frozen=True)
class Statement:
    """Where a statement goes in a source the tool never edits (an ARM template, a Terraform plan)."""

    rule_id: str
    resource: str
    where: str
    statement: str


@dataclass
class FixResult:
    """The run: proven repairs, declined findings, the changed files (original and fixed text) and what the
    re-audit saw before and after."""

    applied: list[Applied] = field(default_factory=list)
    declined: list[Declined] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    originals: dict[str, str] = field(default_factory=dict)  # path -> raw text as read (BOM kept)
    fixed: dict[str, str] = field(default_factory=dict)  # path -> raw text after every applied repair
    before: frozenset[Identity] = frozenset()
    after: frozenset[Identity] = frozenset()
    notes: list[str] = field(default_factory=list)  # why nothing could be fixed, files not edited, ...

    @property
    def changed(self) -> dict[str, tuple[str, str]]:
        return {p: (self.originals[p], t) for p, t in sorted(self.fixed.items()) if t != self.originals[p]}
