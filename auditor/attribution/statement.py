"""The money statement: per team, then every line that went to no team, down to the platform total.

One table every format prints (HTML, Markdown, text, JSON) and the FOCUS file tags row by row (`x_Line`): the
ledger's whole-token, whole-cent rows (auditor/usage/ledger.py) summed per line, so each format's figures are the
same to the cent and the lines add up to the Total, which is the platform total (the gateway's without platform
figures). Lines, in order:
- one per team: a consumer the gateway metered, or the owner of an account, deployment, service or workspace that
  one team owns (attributed by resource, auditor/attribution/money.py);
- the unknown bucket: metered at the gateway with no consumer value;
- passed the gateway unmetered: tokens an account served beyond what the gateway metered, on an account that an
  LLM API reaches without a token metric in every context (AttributionModel.unmetered_apis_to);
- never reached the gateway: the same on accounts every gateway path to which is metered (direct callers);
- unused PTU capacity (only where there is some): reserved PTU-hours no team used, spent but nobody's traffic;
- over-metered: what the gateway metered above what the accounts served, a negative line taken back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..usage.ledger import LedgerRow, ledger_rows
from ..usage.tally import CONSUMER, OVER_METERED, PTU_UNUSED, UNKNOWN, UNMETERED, UsageSummary
from .model import AttributionModel, Owner
from .money import BY_RESOURCE_BUCKET, UNUSED_BUCKET, classify

TEAM, UNKNOWN_LINE, PASSED, NEVER, UNUSED, OVER = (
    "team", "unknown", "passed-gateway-unmetered", "never-reached-gateway", "ptu-unused", "over-metered")
KINDS = (TEAM, UNKNOWN_LINE, PASSED, NEVER, UNUSED, OVER)
LABELS = {UNKNOWN_LINE: "unknown bucket (metered, no team)", PASSED: "passed the gateway unmetered",
          NEVER: "never reached the gateway", UNUSED: UNUSED_BUCKET, OVER: "over-metered by the gateway (taken back)"}
NO_TEAM_KINDS = (UNKNOWN_LINE, PASSED, NEVER)
ZERO = Decimal(0)
NO_CENTS = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class StatementLine:
    kind: str  # one of KINDS, or "total"
    name: str  # the team, or the line's label
    dimension: str = ""  # how the team is known: the consumer dimension, or "owner (tag)" and the like
    cost_centre: str = ""
    owner: str = ""
    tokens: int = 0  # whole tokens, signed (the over-metered line is negative)
    money: Decimal = ZERO  # cents, signed; priced rows only
    unpriced_tokens: int = 0  # of `tokens`, the ones with no price: in no money figure
    apis: tuple[str, ...] = ()  # passed the gateway unmetered: the LLM APIs that reach its accounts unmetered
    accounts: tuple[str, ...] = ()  # unmetered lines: the accounts that served the tokens
    unpriced_models: tuple[str, ...] = ()  # the models of its unpriced tokens: each line quotes its own


@dataclass(frozen=True)
class Statement:
    currency: str
    base_label: str  # what the Total is: "platform tokens" or "gateway-metered tokens"
    lines: tuple[StatementLine, ...]

    @property
    def total(self) -> StatementLine:
        return _sum("total", "total", self.lines)

    @property
    def no_team(self) -> StatementLine:
        return _sum("no-team", "went to no team", (ln for ln in self.lines if ln.kind in NO_TEAM_KINDS))

    def of(self, kind: str) -> tuple[StatementLine, ...]:
        return tuple(ln for ln in self.lines if ln.kind == kind)


def _sum(kind: str, name: str, lines: Iterable[StatementLine]) -> StatementLine:
    lines = list(lines)
    return StatementLine(kind, name, tokens=sum(ln.tokens for ln in lines), money=sum((ln.money for ln in lines), ZERO),
                         unpriced_tokens=sum(ln.unpriced_tokens for ln in lines),
                         unpriced_models=tuple(sorted({m for ln in lines for m in ln.unpriced_models})))


def _owner(row: LedgerRow, model: AttributionModel) -> Owner | None:
    """The team that owns the row's resource when the attribution model attributes it by resource."""
    bucket, _how, path = classify(row, model)
    if bucket != BY_RESOURCE_BUCKET:
        return None
    if path is not None and path.owner is not None:
        return path.owner
    unit = model.gateway_of_api(row.api) if path is None else None
    return unit.owner if unit is not None else None


def line_of(row: LedgerRow, model: AttributionModel) -> tuple[str, str, str]:
    """(kind, name, dimension) of the statement line a ledger row belongs to: FOCUS's `x_Line` and every table."""
    if row.bucket == OVER_METERED:
        return OVER, LABELS[OVER], ""
    if row.bucket == PTU_UNUSED:  # reserved hours nobody used: spent, but no one's traffic went anywhere
        return UNUSED, LABELS[UNUSED], ""
    if row.bucket == CONSUMER:
        return TEAM, row.consumer, row.dimension
    owner = _owner(row, model)
    if owner is not None:
        return TEAM, owner.team, f"owner ({owner.via})"
    if row.bucket == UNKNOWN:
        return UNKNOWN_LINE, LABELS[UNKNOWN_LINE], ""
    if row.bucket == UNMETERED and model.unmetered_apis_to(row.account):
        return PASSED, LABELS[PASSED], ""
    return NEVER, LABELS[NEVER], ""


def statement(summary: UsageSummary, model: AttributionModel) -> Statement:
    """The ledger's rows summed per statement line: teams by tokens, most first, then the no-team lines in order,
    each shown (zero where nothing was lost that way), so every statement has the same reconciliation lines."""
    groups: dict[tuple[str, str, str], dict] = {}
    for row in ledger_rows(summary):
        kind, name, dimension = line_of(row, model)
        g = groups.setdefault((kind, name, dimension), {"tokens": 0, "money": ZERO, "unpriced": 0, "centre": "",
                                                        "owner": "", "apis": set(), "accounts": set(),
                                                        "models": set()})
        g["tokens"] += int(row.tokens)
        g["money"] += row.money
        g["unpriced"] += 0 if row.priced else int(row.tokens)
        if not row.priced and row.tokens:
            g["models"].add(row.model or "?")
        g["centre"] = g["centre"] or row.cost_centre or (name if kind == TEAM and row.bucket != CONSUMER else "")
        g["owner"] = g["owner"] or row.owner
        if kind in (PASSED, NEVER) and row.account:
            g["accounts"].add(row.account)
        if kind == PASSED:
            g["apis"].update(a.rsplit("/", 1)[-1] for a in model.unmetered_apis_to(row.account))
    lines = [StatementLine(kind, name, dimension, g["centre"], g["owner"], g["tokens"], g["money"], g["unpriced"],
                           tuple(sorted(g["apis"])), tuple(sorted(g["accounts"])), tuple(sorted(g["models"])))
             for (kind, name, dimension), g in groups.items()]
    present = {ln.kind for ln in lines}
    lines += [StatementLine(kind, LABELS[kind], money=NO_CENTS) for kind in (UNKNOWN_LINE, PASSED, NEVER, OVER)
              if kind not in present]
    lines.sort(key=lambda ln: (KINDS.index(ln.kind), -ln.tokens if ln.kind == TEAM else 0, ln.name, ln.dimension))
    return Statement(summary.currency, summary.base_label, tuple(lines))
