"""DG003: gateway logs land in the shared AzureDiagnostics table."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_DIAGNOSTIC_SETTINGS
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_NONE, RISK_THROUGH, Rule, Stake

from . import _refs
from ._support import at

RULE = Rule(
    id="DG003",
    title="APIM logs go to the legacy AzureDiagnostics table",
    severity=Severity.LOW,
    stake=Stake(LOSS_NONE, RISK_THROUGH),
    rationale=(
        "Without `logAnalyticsDestinationType: Dedicated`, API Management logs land in `AzureDiagnostics`, a "
        "wide shared table with truncated, renamed columns, instead of `ApiManagementGatewayLogs` and "
        "`ApiManagementGatewayLlmLog`. The attribution queries (and this tool's KQL) are written for the "
        "resource-specific tables; on AzureDiagnostics they are slower, costlier and easy to get wrong."
    ),
    detection=(
        "Diagnostic settings on an APIM service that send to a Log Analytics workspace without "
        "`logAnalyticsDestinationType` set to `Dedicated`. Azure OpenAI's own categories only exist in "
        "AzureDiagnostics and are not flagged."
    ),
    fix="Set the destination type to resource-specific (`Dedicated`).",
    fix_snippet="""\"properties\": {
  \"workspaceId\": \"[parameters('workspaceId')]\",
  \"logAnalyticsDestinationType\": \"Dedicated\",
  ...
}""",
    references=(_refs.DIAGNOSTIC_SETTINGS, _refs.APIM_MONITOR, _refs.GATEWAY_LLM_LOG_TABLE),
    requires=frozenset({CARRIES_DIAGNOSTIC_SETTINGS}),
    chain_link="destination",
)


def check(ctx: AuditContext):
    for setting in ctx.estate.diagnostic_settings:
        if "/microsoft.apimanagement/service/" not in setting.resource_id.lower() + "/":
            continue
        if not setting.workspace_id or (setting.destination_type or "").lower() == "dedicated":
            continue
        name = setting.resource_id.rstrip("/").rsplit("/", 1)[-1]
        yield RULE.finding(
            setting.resource_id,
            f"diagnostic setting '{setting.name}' on APIM service '{name}' writes to AzureDiagnostics "
            "(logAnalyticsDestinationType is not Dedicated)",
            location=at(setting.origin, setting.resource_id),
            key=setting.name,
        )
