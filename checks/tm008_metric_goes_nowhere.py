"""TM008: token metrics are emitted but no Application Insights diagnostic with metrics enabled receives them."""

from __future__ import annotations

from aoai_audit.analysis import token_metrics
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_LOGGING, CARRIES_POLICIES, ApimService, Diagnostic
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_NONE, RISK_THROUGH, Rule, Stake

from . import _refs

RULE = Rule(
    id="TM008",
    title="Token metrics go nowhere (no Application Insights custom metrics)",
    severity=Severity.HIGH,
    stake=Stake(LOSS_NONE, RISK_THROUGH),
    rationale=(
        "The token-metric policies only send data to Application Insights, and only when the service (or the "
        "API) has an `applicationinsights` diagnostic whose logger is an Application Insights logger and whose "
        "`metrics` property is `true`. Without it the policy runs, costs latency, and records nothing."
    ),
    detection=(
        "For each service whose LLM APIs emit token metrics: an Application Insights logger must exist, and "
        "the `applicationinsights` diagnostic at service scope, or at the API's scope, must reference such a "
        "logger with `\"metrics\": true` (APIM's default is false). A service whose loggers or diagnostics "
        "could not be read is left to AU001 (unknown is not none)."
    ),
    fix="Create an Application Insights logger and enable custom metrics on the applicationinsights diagnostic "
    "(the portal does not expose `metrics`; set it through ARM, Bicep, Terraform or the REST API).",
    fix_snippet="""resource diag 'Microsoft.ApiManagement/service/diagnostics@2024-05-01' = {
  parent: apim
  name: 'applicationinsights'
  properties: {
    loggerId: appInsightsLogger.id
    metrics: true   // required for llm-emit-token-metric / emit-metric
    verbosity: 'information'
  }
}""",
    references=(_refs.APP_INSIGHTS, _refs.LLM_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES, CARRIES_LOGGING}),
    chain_link="destination",
)


def _logger_name(logger_id: str) -> str:
    return logger_id.rstrip("/").rsplit("/", 1)[-1]


def _receives(service: ApimService, diag: Diagnostic, ai_loggers: set[str]) -> str | None:
    """None when this diagnostic receives custom metrics, else why not."""
    if diag.name.lower() != "applicationinsights":
        return f"diagnostic '{diag.name}' is not the applicationinsights diagnostic"
    if not _logger_name(diag.logger_id):  # say what is there: no loggerId is not "logger ''"
        return f"diagnostic '{diag.name}' names no logger (no loggerId), so nothing receives its metrics"
    if _logger_name(diag.logger_id) not in ai_loggers:
        return f"diagnostic '{diag.name}' uses logger '{_logger_name(diag.logger_id)}', not an Application Insights logger"
    if diag.metrics is not True:
        state = "false" if diag.metrics is False else "not set (defaults to false)"
        return f"diagnostic '{diag.name}'{' of API ' + repr(diag.api) if diag.api else ''} has metrics {state}"
    return None


def _unread_logging(ctx: AuditContext, resource_id: str) -> bool:
    rid = resource_id.rstrip("/").lower()
    collections = (f"{rid}/loggers", f"{rid}/diagnostics")
    return bool(rid) and any(
        g.target.rstrip("/").lower().startswith(collections) for g in ctx.estate.gaps if g.kind == "unreadable"
    )


def check(ctx: AuditContext):
    by_service: dict[str, list] = {}
    for view in ctx.gateway_apis:
        if any(token_metrics(ep.inbound) for ep in view.effective):
            by_service.setdefault(view.service.name, []).append(view)
    for service in ctx.estate.services:
        views = by_service.get(service.name)
        if not views:
            continue
        if _unread_logging(ctx, service.resource_id):
            continue  # loggers or diagnostics could not be read: unknown, not missing (AU001 reports the read)
        ai_loggers = {lg.name for lg in service.loggers if lg.logger_type.lower() == "applicationinsights"}
        service_diags = [d for d in service.diagnostics if d.api is None and d.workspace is None]
        problems: list[str] = []
        if not ai_loggers:
            problems.append("the service has no Application Insights logger")
        service_ok = any(_receives(service, d, ai_loggers) is None for d in service_diags)
        if not service_ok:
            problems += [p for d in service_diags if (p := _receives(service, d, ai_loggers)) and
                         d.name.lower() == "applicationinsights"]
            if not any(d.name.lower() == "applicationinsights" for d in service_diags):
                problems.append("there is no service-level applicationinsights diagnostic")
        missing = []
        for view in views:
            if service_ok:
                continue
            ws = view.api.workspace  # a workspace API: its own diagnostics and its workspace's (workspaces/{ws}/diagnostics)
            api_diags = [d for d in service.diagnostics if d.workspace == ws and d.api in (view.api.name, *(
                (None,) if ws else ()))]
            if not any(_receives(service, d, ai_loggers) is None for d in api_diags):
                missing.append(view)
        if not missing:
            continue
        target = next((d for d in service_diags if d.name.lower() == "applicationinsights"), None)
        location = ctx.location(target.origin if target else service.origin)
        names = ", ".join(v.api.name for v in missing)
        yield RULE.finding(
            f"service/{service.name}",
            f"token metrics of {len(missing)} LLM API(s) ({names}) are emitted but never stored: "
            + "; ".join(dict.fromkeys(problems)),
            location=location,
            evidence=[f"loggers: {', '.join(f'{lg.name} ({lg.logger_type})' for lg in service.loggers) or 'none'}",
                      f"diagnostics: {', '.join(d.name + (' api ' + d.api if d.api else '') for d in service.diagnostics) or 'none'}"],
        )
