"""Diagnostic rules branch by branch (issue 29): DG002 judged apart from the settings it cannot see and pointing at
the diagnostic that turns LLM logging off, DG003 naming the service, DG004 and TM008 past a service with no LLM API,
and TM008's evidence and its silence where the logging could not be read. Expected messages are written here from
RULES.md and the estates built below, never taken from a run."""

from __future__ import annotations

from test_branches_account_rules import run

from aoai_audit.checks import (
    dg002_gateway_llm_logs_off,
    dg003_legacy_azurediagnostics,
    dg004_sampled_gateway_logs,
    tm008_metric_goes_nowhere,
)
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import (
    Api,
    ApimService,
    Diagnostic,
    DiagnosticSetting,
    Estate,
    Logger,
    LogSetting,
    SourceInfo,
)
from aoai_audit.gaps import CollectionGap
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.policy.tree import Origin

SVC = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/"
LA = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la"
AOAI = "https://a.openai.azure.com/openai"
EVERYTHING = frozenset({"apis", "policies", "apim-logging", "diagnostic-settings"})
METRIC_POLICY = ('<policies><inbound><base /><llm-emit-token-metric namespace="llm"><dimension name="Subscription ID" />'
                 "</llm-emit-token-metric></inbound><backend><base /></backend><outbound><base /></outbound>"
                 "<on-error><base /></on-error></policies>")


def source(carries=EVERYTHING) -> SourceInfo:
    return SourceInfo("arm", "t.json", frozenset(carries))


def llm_api(name: str, *, metric=False, workspace=None) -> Api:
    policy = read_policy(METRIC_POLICY, scope="api", label=f"api '{name}'") if metric else None
    return Api(name, service_url=AOAI, workspace=workspace, policy=policy)


def at(line: int) -> Origin:
    return Origin("apim.json", line)


# ---- DG002: the diagnostic-settings part needs settings to judge and a resource id to tell them apart ---------------
def test_dg002_an_extract_without_diagnostic_settings_is_judged_on_llm_logging_only():
    """An APIOps extract carries the diagnostics but no diagnostic settings: missing settings are unknown there."""
    off = Diagnostic("azuremonitor", llm_logging="disabled")
    service = ApimService("gw", SVC + "gw", apis=(llm_api("chat"),), diagnostics=(off,))
    estate = Estate(sources=(source({"apis", "policies", "apim-logging"}),), services=(service,))
    assert run(dg002_gateway_llm_logs_off, estate) == [
        ("service/gw", "APIM service 'gw': the azuremonitor diagnostic has LLM logging disabled, and LLM API(s) chat "
                       "do not enable it for themselves")]


def test_dg002_a_service_without_a_resource_id_is_not_said_to_lack_settings():
    """Settings are attached to a resource id: without one, none of them can be told to be this service's."""
    on = Diagnostic("azuremonitor", llm_logging="enabled")
    nameless = ApimService("gw", "", apis=(llm_api("chat"),), diagnostics=(on,))
    assert run(dg002_gateway_llm_logs_off, Estate(sources=(source(),), services=(nameless,))) == []
    with_id = ApimService("gw", SVC + "gw", apis=(llm_api("chat"),), diagnostics=(on,))
    (resource, message), = run(dg002_gateway_llm_logs_off, Estate(sources=(source(),), services=(with_id,)))
    assert resource == "service/gw" and "sends GatewayLogs and GatewayLlmLogs to Log Analytics" in message


def _dg002_locations(*diagnostics, ws=None):
    every = DiagnosticSetting(SVC + "gw", "all", LA, logs=(LogSetting(None, "allLogs", True),))
    service = ApimService("gw", SVC + "gw", apis=(llm_api("chat"), llm_api("embed", workspace=ws)),
                          diagnostics=diagnostics)
    ctx = build_context(Estate(sources=(source(),), services=(service,), diagnostic_settings=(every,)), Settings())
    return [(f.resource, f.location.path, f.location.line) for f in dg002_gateway_llm_logs_off.check(ctx)]


def test_dg002_points_at_the_service_diagnostic_that_turns_llm_logging_off_not_an_apis_own():
    chat_on = Diagnostic("azuremonitor", api="chat", llm_logging="enabled", origin=at(10))
    service_off = Diagnostic("azuremonitor", llm_logging="disabled", origin=at(20))
    assert _dg002_locations(chat_on, service_off) == [("service/gw", "apim.json", 20)]


def test_dg002_points_at_the_workspace_diagnostic_that_turns_llm_logging_off_not_the_services():
    service_on = Diagnostic("azuremonitor", llm_logging="enabled", origin=at(20))
    ws_off = Diagnostic("azuremonitor", llm_logging="disabled", workspace="ws", origin=at(30))
    assert _dg002_locations(service_on, ws_off, ws="ws") == [("service/gw/workspaces/ws", "apim.json", 30)]


# ---- DG003: the service is named by the last segment of its resource id, as the id spells it -------------------------
def test_dg003_names_the_service_as_its_resource_id_spells_it():
    """ARM keeps the casing a resource was created with; the name is the id's last segment, whatever it ends in."""
    settings = (DiagnosticSetting(SVC + "contoso-apim", "to-la", LA), DiagnosticSetting(SVC + "CONTOSO-LUX/", "eu", LA))
    assert run(dg003_legacy_azurediagnostics, Estate(diagnostic_settings=settings)) == [
        (SVC + "contoso-apim", "diagnostic setting 'to-la' on APIM service 'contoso-apim' writes to AzureDiagnostics "
                               "(logAnalyticsDestinationType is not Dedicated)"),
        (SVC + "CONTOSO-LUX/", "diagnostic setting 'eu' on APIM service 'CONTOSO-LUX' writes to AzureDiagnostics "
                               "(logAnalyticsDestinationType is not Dedicated)")]


# ---- DG004: every service with LLM APIs, after one without -------------------------------------------------------------
def test_dg004_a_service_without_llm_apis_does_not_stop_the_next_from_being_judged():
    sampled = Diagnostic("applicationinsights", sampling_percentage=25.0)
    plain = ApimService("plain", SVC + "plain", diagnostics=(sampled,))  # no API: not judged
    llm = ApimService("gw", SVC + "gw", apis=(llm_api("chat"),), diagnostics=(sampled,))
    estate = Estate(sources=(source(),), services=(plain, llm))
    assert run(dg004_sampled_gateway_logs, estate) == [
        ("service/gw", "diagnostic 'applicationinsights' logs 25% of requests for every API; per-caller usage from "
                       "these logs is undercounted")]


# ---- TM008: where the metric goes, what the evidence lists, and silence where logging was not read --------------------
def _tm008(*services, gaps=()):
    ctx = build_context(Estate(sources=(source(),), services=services, gaps=gaps), Settings())
    return [(f.resource, f.message, f.evidence) for f in tm008_metric_goes_nowhere.check(ctx)]


def test_tm008_a_service_without_metrics_does_not_stop_the_next_and_empty_lists_say_none():
    quiet = ApimService("quiet", SVC + "quiet", apis=(llm_api("plain"),))  # no token metric: nothing to store
    bare = ApimService("gw", SVC + "gw", apis=(llm_api("chat", metric=True),))
    assert _tm008(quiet, bare) == [
        ("service/gw", "token metrics of 1 LLM API(s) (chat) are emitted but never stored: the service has no "
                       "Application Insights logger; there is no service-level applicationinsights diagnostic",
         ("loggers: none", "diagnostics: none"))]


def test_tm008_evidence_lists_each_logger_with_its_type_and_each_diagnostic_with_its_api():
    loggers = (Logger("appi", "applicationInsights"), Logger("la", "azureMonitor"))
    diags = (Diagnostic("applicationinsights", logger_id="/loggers/appi", metrics=False),
             Diagnostic("azuremonitor", logger_id="/loggers/la", api="chat"))
    service = ApimService("gw", SVC + "gw", apis=(llm_api("chat", metric=True),), loggers=loggers, diagnostics=diags)
    assert _tm008(service) == [
        ("service/gw", "token metrics of 1 LLM API(s) (chat) are emitted but never stored: diagnostic "
                       "'applicationinsights' has metrics false",
         ("loggers: appi (applicationInsights), la (azureMonitor)", "diagnostics: applicationinsights, azuremonitor api chat"))]


def test_tm008_says_nothing_where_the_loggers_or_diagnostics_could_not_be_read():
    bare = ApimService("gw", SVC + "gw", apis=(llm_api("chat", metric=True),))
    unread = CollectionGap("unreadable", SVC + "gw/loggers", "403 listing loggers", status=403)
    assert _tm008(bare, gaps=(unread,)) == []
    elsewhere = CollectionGap("unreadable", SVC + "other/loggers", "403 listing loggers", status=403)
    assert [r for r, _m, _e in _tm008(bare, gaps=(elsewhere,))] == ["service/gw"]
