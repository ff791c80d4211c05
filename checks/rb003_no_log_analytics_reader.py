"""RB003: the reporting principal cannot query the workspace holding the logs."""

from __future__ import annotations

from collections.abc import Iterator

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_DIAGNOSTIC_SETTINGS, CARRIES_READER, CARRIES_ROLES
from aoai_audit.findings import Finding, Severity
from aoai_audit.roles import LOGS_QUERY
from aoai_audit.rules import Rule

from . import _refs
from ._access import lacking, lacking_finding, workspaces

RULE = Rule(
    id="RB003",
    title="Reporting principal lacks Log Analytics Reader on the log workspace",
    severity=Severity.MEDIUM,
    rationale=(
        "Per-call attribution comes from KQL over `ApiManagementGatewayLlmLog` joined to "
        "`ApiManagementGatewayLogs`. A principal that cannot query the workspace those logs go to cannot "
        "produce it, and scheduled reports fail or come back empty."
    ),
    detection=(
        "Each Log Analytics workspace that a diagnostic setting sends to must be covered by a role whose "
        "effective actions match `Microsoft.OperationalInsights/workspaces/query/read`. "
        "Where the principal's role assignments could not be listed, or a role covering the resource could not be "
        "read, nothing is reported here: unknown is not none, and AU001 names the failed read."
    ),
    fix="Grant Log Analytics Reader on the workspace.",
    fix_snippet="""az role assignment create --assignee <reader-object-id> \\
  --role "Log Analytics Reader" \\
  --scope /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<ws>""",
    references=(_refs.LOG_ANALYTICS_ACCESS, _refs.AZURE_RBAC_BUILTIN, _refs.GATEWAY_LLM_LOG_TABLE),
    requires=frozenset({CARRIES_ROLES, CARRIES_READER, CARRIES_DIAGNOSTIC_SETTINGS}),
    chain_link="destination",
)


def check(ctx: AuditContext) -> Iterator[Finding]:
    arm_ids = [ws for ws in workspaces(ctx) if ws.startswith("/subscriptions/")]
    for acc, ws in lacking(ctx, arm_ids, lambda acc, ws: acc.can(LOGS_QUERY, ws)):
        yield lacking_finding(
            RULE, acc, ws,
            f"reader principal {acc.principal} cannot query Log Analytics workspace {ws.rsplit('/', 1)[-1]}, "
            "where gateway or account logs are sent",
        )
