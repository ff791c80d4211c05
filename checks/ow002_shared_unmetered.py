"""OW002: a deployment shared by several Foundry projects or APIM instances, with no meter telling them apart."""

from __future__ import annotations

from aoai_audit.attribution import SHARED
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ACCOUNTS
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_COST, Rule, Stake

from . import _refs
from ._ownership import grouped

RULE = Rule(
    id="OW002",
    title="Deployment shared by several projects or gateways with no meter telling them apart",
    severity=Severity.HIGH,
    stake=Stake(LOSS_COST),
    rationale=(
        "Foundry projects in one AIServices account are billed as the account, and several APIM instances (or "
        "workspaces) that each are one team reach one account's deployments with nothing on the bill that says "
        "which one called. Without a meter per project or instance, the shared deployment's cost goes to no team."
    ),
    detection=(
        "The attribution model marks the deployment shared and unmetered because (a) two or more Foundry projects "
        "(`Microsoft.CognitiveServices/accounts/projects`) of different or unknown teams sit on an account with no "
        "gateway in front and no owner tag on the deployment, or (b) two or more APIM services or workspaces, each "
        "tagged (or mapped) to a team, reach the account and at least one of them emits no token metric on every "
        "LLM API (the metric's default Service ID / Service Name would tell them apart). A shared gateway with no "
        "metric is TM001's finding, not this one. Money at stake: what the deployment cost in the usage window."
    ),
    fix="Give each project or team its own deployment (and tag it), or route the projects through a gateway that "
        "emits `llm-emit-token-metric` on every LLM API of every instance.",
    fix_snippet='''"tags": { "team": "research" }   // on Microsoft.CognitiveServices/accounts/deployments, one per team''',
    references=(_refs.FOUNDRY_COSTS, _refs.LLM_EMIT_TOKEN_METRIC, _refs.RESOURCE_TAGS),
    requires=frozenset({CARRIES_ACCOUNTS}),
)


def _unmetered_share(d) -> bool:
    return d.path == SHARED and not any(g.owner is None for g in d.gateways)


def check(ctx: AuditContext):
    for resource, label, deps, where in grouped(ctx, _unmetered_share):
        d = deps[0]
        who = (f"{len(d.projects)} Foundry projects ({', '.join(d.projects[:4])})" if not d.gateways
               else f"{len(d.gateways)} team gateways ({', '.join(g.label for g in d.gateways[:4])})")
        yield RULE.finding(
            resource,
            f"{label} is shared by {who} and no meter tells them apart, so its cost goes to no team",
            location=where,
            evidence=[d.reason],
        )
