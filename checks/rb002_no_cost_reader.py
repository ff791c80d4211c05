"""RB002: the reporting principal cannot read actual cost."""

from __future__ import annotations

from collections.abc import Iterator

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_READER, CARRIES_ROLES
from aoai_audit.findings import Finding, Severity
from aoai_audit.roles import COST_READ
from aoai_audit.rules import Rule

from . import _refs
from ._access import lacking, lacking_finding, subscriptions

RULE = Rule(
    id="RB002",
    title="Reporting principal lacks Cost Management Reader",
    severity=Severity.MEDIUM,
    rationale=(
        "Token counts become money only against the bill. Without Cost Management read access on the "
        "subscriptions of the LLM accounts, the chargeback can only estimate cost from list prices and cannot "
        "show estimated against billed."
    ),
    detection=(
        "For each subscription holding an audited Azure OpenAI account or APIM service, the reader principal's "
        "effective actions at subscription scope (or above) must match `Microsoft.CostManagement/query/read`. "
        "Where the principal's role assignments could not be listed, or a role covering the resource could not be "
        "read, nothing is reported here: unknown is not none, and AU001 names the failed read."
    ),
    fix="Grant Cost Management Reader at the subscription.",
    fix_snippet="""az role assignment create --assignee <reader-object-id> \\
  --role "Cost Management Reader" --scope /subscriptions/<sub>""",
    references=(_refs.COST_MANAGEMENT_ACCESS, _refs.AZURE_RBAC_BUILTIN),
    requires=frozenset({CARRIES_ROLES, CARRIES_READER}),
)


def check(ctx: AuditContext) -> Iterator[Finding]:
    for acc, sub in lacking(ctx, subscriptions(ctx), lambda acc, sub: acc.can(COST_READ, sub)):
        yield lacking_finding(
            RULE, acc, sub,
            f"reader principal {acc.principal} cannot read Cost Management data for {sub}; billed cost cannot be "
            "set beside the attributed usage",
        )
