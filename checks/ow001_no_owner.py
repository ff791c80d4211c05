"""OW001: an LLM account or deployment whose spend reaches no team: no owner tag, no map entry, no metering."""

from __future__ import annotations

from aoai_audit.attribution import NO_OWNER
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ACCOUNTS
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_COST, Rule, Stake

from . import _refs
from ._ownership import grouped

RULE = Rule(
    id="OW001",
    title="LLM account or deployment has no known owner",
    severity=Severity.HIGH,
    stake=Stake(LOSS_COST),
    rationale=(
        "Azure bills an Azure OpenAI / AI Services account as a whole. When neither a tag, nor the cost-centre map, "
        "nor a gateway's token metric says whose calls it served, its whole cost goes to no team: the chargeback "
        "sheet can only spread it or leave it with the platform."
    ),
    detection=(
        "The attribution model (computed before the rules) finds no path for the deployment: no owner tag on the "
        "deployment or the account (tag names from `owner_tags`; default team, team-name, owner-team, cost-center, "
        "cost-centre, business-unit, chargeback, compared ignoring case and separators), no cost-centre map entry "
        "keyed by the account or deployment, and no APIM LLM API in front of it. Tags count on the resource itself: "
        "Azure does not pass resource-group or subscription tags down to resources, and Cost Management applies "
        "them to usage only with tag inheritance on. An account whose deployments all lack an owner is reported "
        "once. Money at stake: what the account or deployment cost in the usage window."
    ),
    fix="Tag the account (or each deployment a team owns) with its team, or add it to the cost-centre map; "
        "or put it behind a gateway that meters tokens per consumer.",
    fix_snippet='''"tags": { "team": "marketing", "cost-center": "CC-4100" }''',
    references=(_refs.RESOURCE_TAGS, _refs.TAG_INHERITANCE, _refs.COST_ALLOCATION),
    requires=frozenset({CARRIES_ACCOUNTS}),
)


def check(ctx: AuditContext):
    for resource, label, deps, where in grouped(ctx, lambda d: d.path == NO_OWNER):
        yield RULE.finding(
            resource,
            f"{label}: no owner is known (no owner tag, no cost-centre map entry, no gateway in front), so its "
            "whole cost goes to no team",
            location=where,
            evidence=[d.reason for d in deps[:1]] + [f"owner tags looked for: {', '.join(ctx.attribution.owner_tags)}"],
        )
