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
        "For each APIM service with LLM APIs: a diagnostic setting must send `GatewayLogs` and `GatewayLlmLogs` "
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
    references=(_refs.APIM_LOG_CATEGORIES, _refs.LLM_LOGS, _refs.DIAGNOSTIC_SETTINGS),
    parts=(
        Part("diagnostic settings sending GatewayLogs and GatewayLlmLogs", frozenset({CARRIES_DIAGNOSTIC_SETTINGS})),
        Part("the azuremonitor diagnostic's LLM logging (largeLanguageModel)", frozenset({CARRIES_LOGGING})),
    ),
)

CATEGORIES = ("GatewayLogs", "GatewayLlmLogs")


def check(ctx: AuditContext):
    services = {v.service.name: v.service for v in ctx.llm_apis}
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
    """LLM logging is set per API (azure-facts.md section 9): an API's azuremonitor diagnostic overrides the
    service's; judge the effective setting of each LLM API."""
    monitor = [d for d in service.diagnostics if d.name.lower() == "azuremonitor"]
    service_diag = next((d for d in monitor if d.api is None and d.workspace is None), None)
    apis = [v.api.name for v in ctx.llm_apis if v.service.name == service.name]
    inherited = []
    for api in apis:
        api_diag = next((d for d in monitor if d.api == api), None)
        explicit = _off(api_diag)
        if explicit:
            yield RULE.finding(
                f"{resource}/apis/{api}",
                f"APIM service '{service.name}': the azuremonitor diagnostic of API {api} has LLM logging disabled",
                location=at(api_diag.origin, service.resource_id),
                key=f"llm-logging:{api}",
            )
        elif explicit is None and _off(service_diag):
            inherited.append(api)
    if inherited:
        yield RULE.finding(
            resource,
            f"APIM service '{service.name}': the azuremonitor diagnostic has LLM logging disabled, and LLM API(s) "
            f"{', '.join(inherited)} do not enable it for themselves",
            location=at(service_diag.origin, service.resource_id),
            key="llm-logging:",
        )
