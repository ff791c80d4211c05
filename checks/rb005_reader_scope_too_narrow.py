"""RB005: the reporting principal's roles do not reach every resource it must read."""

from __future__ import annotations

from collections.abc import Iterator

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_READER, CARRIES_ROLES
from aoai_audit.findings import Finding, Severity
from aoai_audit.roles import covers
from aoai_audit.rules import Rule

from . import _refs
from ._access import access, audited_resources, lacking, lacking_finding

RULE = Rule(
    id="RB005",
    title="Reporting principal's roles are scoped below what it must read",
    severity=Severity.MEDIUM,
    rationale=(
        "Roles granted on one resource group cover only that group. When LLM accounts or gateways live in "
        "other groups or subscriptions, their usage silently drops out of the chargeback: the report is "
        "complete for the resources it can see and says nothing of the rest."
    ),
    detection=(
        "The reader principal holds at least one assignment, yet some audited Azure OpenAI account or APIM "
        "service lies outside every assignment scope (scopes inherit downwards). "
        "Where the principal's role assignments could not be listed, or a role covering the resource could not be "
        "read, nothing is reported here: unknown is not none, and AU001 names the failed read."
    ),
    fix="Assign the reader roles at a scope that contains every LLM account and gateway (subscription or management group).",
    fix_snippet="""az role assignment create --assignee <reader-object-id> \\
  --role "Monitoring Reader" --scope /subscriptions/<sub>""",
    references=(_refs.AZURE_RBAC_BUILTIN,),
    requires=frozenset({CARRIES_ROLES, CARRIES_READER}),
)


def check(ctx: AuditContext) -> Iterator[Finding]:
    if not access(ctx).assignments:
        return  # RB001 reports a principal with no access at all
    for acc, resource in lacking(ctx, audited_resources(ctx),
                                 lambda acc, resource: any(covers(a.scope, resource) for a in acc.assignments)):
        yield lacking_finding(
            RULE, acc, resource,
            f"{resource.rsplit('/', 1)[-1]} is outside every role assignment of reader principal {acc.principal}; "
            "its usage is missing from anything that principal produces",
        )
