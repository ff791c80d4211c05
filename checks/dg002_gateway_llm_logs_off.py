"""DG002: the gateway's own per-request and LLM logs do not reach Log Analytics."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_DIAGNOSTIC_SETTINGS, CARRIES_LOGGING
from aoai_audit.findings import Severity
from aoai_audit.gaps import unknown_for
from aoai_audit.rules import LOSS_NONE, RISK_THROUGH, Part, Rule, Stake

from . import _refs
from ._diagnostics import describe, sends_category, settings_on
from ._support import at

RULE = Rule(
    id="DG002",
    title="Gateway and LLM logs not sent to Log Analytics",
    severity=Severity.HIGH,
    stake=Stake(LOSS_NONE, RISK_THROUGH),
    rationale=(
        "`ApiManagementGatewayLlmLog` holds tokens per request and `ApiManagementGatewayLogs` holds who made it "
        "(API, product, subscription); joined on `CorrelationId` they are the per-call record of who spent "
        "what. Without a diagnostic setting sending both categories to Log Analytics, or with LLM logging "
        "disabled on the `azuremonitor` diagnostic, that record does not exist and the usage checks have "
        "nothing to measure."
    ),
    detection=(
        "For each APIM service with LLM APIs whose spend is attributed at the gateway (not a service that is one "
        "team in front of accounts that team owns: that spend is attributed by resource): a diagnostic setting must send `GatewayLogs` and `GatewayLlmLogs` "
        "(or the `allLogs` group) to a Log Analytics workspace. Where the source carries APIM diagnostics, the "
        "`azuremonitor` diagnostic must not have `largeLanguageModel.logs` disabled. The two are judged apart: "
        "an APIOps extract carries the diagnostics but no diagnostic settings, so it is judged on LLM logging and "
        "the report says the settings were not. A service whose diagnostic settings could not be read, or whose "
        "Azure resource id is unknown, is left unjudged on them (unknown is not none; AU001/AU002 report a "
        "failed read)."
    ),
    fix="Send GatewayLogs and GatewayLlmLogs to Log Analytics (resource-specific tables) and enable LLM logging.",
    fix_snippet="""{
  "type": "Microsoft.Insights/diagnosticSettings",
  "apiVersion": "2021-05-01-preview",
  "scope": "[resourceId('Microsoft.ApiManagement/service', parameters('apimName'))]",
  "name": "gateway-to-log-analytics",
  "properties": {
    "workspaceId": "[parameters('workspaceId')]",
    "logAnalyticsDestinationType": "Dedicated",
    "logs": [
      { "category": "GatewayLogs", "enabled": true },
      { "category": "GatewayLlmLogs", "enabled": true }
    ]
  }
}""",
    references=(_refs.APIM_LOG_CATEGORIES, _refs.LLM_LOGS, _refs.DIAGNOSTIC_SETTINGS, _refs.GATEWAY_LLM_LOG_TABLE),
    parts=(
        Part("diagnostic settings sending GatewayLogs and GatewayLlmLogs", frozenset({CARRIES_DIAGNOSTIC_SETTINGS})),
        Part("the azuremonitor diagnostic's LLM logging (largeLanguageModel)", frozenset({CARRIES_LOGGING})),
    ),
    chain_link="destination",
)

CATEGORIES = ("GatewayLogs", "GatewayLlmLogs")


def check(ctx: AuditContext):
    # judged where spend is attributed at a gateway: a service that is one team in front of accounts that team owns
    # is attributed by resource (docs/attribution.md), and its logs are not the chargeback's record
    services = {v.service.name: v.service for v in ctx.gateway_apis}
    carries = ctx.estate.carries
    for service in services.values():
        resource = f"service/{service.name}"
        if CARRIES_DIAGNOSTIC_SETTINGS in carries and service.resource_id:
            # no resource id: its settings cannot be told apart, so they are unknown, not missing (nothing said)
            yield from _categories(ctx, service, resource)
        if CARRIES_LOGGING in carries:
            yield from _llm_logging(ctx, service, resource)


def _categories(ctx: AuditContext, service, resource: str):
    settings = [s for s in settings_on(ctx.estate, service.resource_id) if s.workspace_id]
    missing = [c for c in CATEGORIES if not any(sends_category(s, c) for s in settings)]
    # settings that could not be read are unknown, not missing: AU001/AU002 reports the failed read
    if missing and not unknown_for(ctx.estate.gaps, service.resource_id, "diagnosticSettings", service.origin.path):
        yield RULE.finding(
            resource,
            f"APIM service '{service.name}' fronts LLM APIs but no diagnostic setting in what was scanned sends "
            f"{' and '.join(missing)} to Log Analytics; per-call token usage cannot be attributed (a setting "
            "declared in another template is seen only when that template is scanned together with this one)",
            location=at(service.origin, service.resource_id),
            evidence=[describe(s) for s in settings_on(ctx.estate, service.resource_id)] or ["no diagnostic settings"],
            key="categories",
        )


def _off(diag) -> bool | None:
    return None if diag is None or not diag.llm_logging else diag.llm_logging.lower() == "disabled"


def _llm_logging(ctx: AuditContext, service, resource: str):
    """LLM logging is set for all APIs or per API, and an API's azuremonitor diagnostic overrides the service's
    (https://learn.microsoft.com/azure/api-management/api-management-howto-llm-logs); judge the effective setting
    of each LLM API. An API belongs to its workspace: only a diagnostic of the same workspace and API name is its
    own (two workspaces may each hold an API `chat`), and a workspace's own azuremonitor diagnostic stands before
    the service's for its APIs (workspace-level entities:
    https://learn.microsoft.com/en-us/azure/api-management/workspaces-overview)."""
    monitor = [d for d in service.diagnostics if d.name.lower() == "azuremonitor"]
    service_diag = next((d for d in monitor if d.api is None and d.workspace is None), None)
    views = [v for v in ctx.gateway_apis if v.service.name == service.name]
    inherited: dict[str | None, list[str]] = {}
    for view in views:
        api, ws = view.api.name, view.api.workspace
        api_diag = next((d for d in monitor if d.api == api and d.workspace == ws), None)
        explicit = _off(api_diag)
        if api_diag is not None and explicit:
            where = f"{resource}/workspaces/{ws}/apis/{api}" if ws else f"{resource}/apis/{api}"
            yield RULE.finding(
                where,
                f"APIM service '{service.name}'" + (f" workspace '{ws}'" if ws else "") +
                f": the azuremonitor diagnostic of API {api} has LLM logging disabled",
                location=at(api_diag.origin, service.resource_id),
                key=f"llm-logging:{ws}/{api}" if ws else f"llm-logging:{api}",
            )
            continue
        if explicit is not None:
            continue
        ws_diag = next((d for d in monitor if d.api is None and ws and d.workspace == ws), None)
        if _off(ws_diag) is not None:
            if _off(ws_diag):
                inherited.setdefault(ws, []).append(api)
        elif _off(service_diag):
            inherited.setdefault(None, []).append(api)
    for ws, apis in inherited.items():
        diag = next(d for d in monitor if d.api is None and d.workspace == ws)
        yield RULE.finding(
            f"{resource}/workspaces/{ws}" if ws else resource,
            f"APIM service '{service.name}'" + (f" workspace '{ws}'" if ws else "") +
            f": the azuremonitor diagnostic has LLM logging disabled, and LLM API(s) {', '.join(apis)} do not "
            "enable it for themselves",
            location=at(diag.origin, service.resource_id),
            key=f"llm-logging:{ws}/" if ws else "llm-logging:",
        )
