"""Account rules branch by branch: BY001 behind a gateway by host or by name, DG001 per account and when its
settings could not be read, AU003 on an estate with nothing to judge (issue 29). Messages are asserted on what they
name (the account, the state, the path), written here from RULES.md."""

from __future__ import annotations

from aoai_audit.checks import au003_no_llm_api, by001_gateway_bypass, dg001_account_without_diagnostics
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import (
    AiAccount,
    ApimService,
    Backend,
    DiagnosticSetting,
    Estate,
    LogSetting,
    SourceInfo,
)
from aoai_audit.gaps import CollectionGap

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"


def account(name: str, endpoint: str = "") -> AiAccount:
    return AiAccount(RID + name, name, "OpenAI", endpoint=endpoint, public_network_access="Enabled")


def run(check, estate: Estate):
    return [(f.resource, f.message) for f in check.check(build_context(estate, Settings()))]


def test_an_open_account_is_behind_the_gateway_when_a_backend_calls_its_host_or_names_it():
    service = ApimService("apim", backends=(Backend("b1", "https://custom-host.example.com/openai"),
                                             Backend("b2", "https://byname.openai.azure.com/openai")))
    estate = Estate(services=(service,), accounts=(account("byhost", "https://custom-host.example.com/"),
                                                   account("byname"), account("alone", "https://alone.example.com")))
    got = dict(run(by001_gateway_bypass, estate))
    state = "disableLocalAuth unset, public network access Enabled"
    assert got[RID + "byhost"] == (f"Azure OpenAI account 'byhost' behind the gateway accepts API keys from the public "
                                   f"network ({state}); calls made directly pass no gateway and are attributed to no one")
    assert got[RID + "byname"].startswith("Azure OpenAI account 'byname' behind the gateway")
    assert got[RID + "alone"].startswith("Azure OpenAI account 'alone' has no gateway in front")
    assert "This is not an attribution gap (its spend: no known owner); it is spend no one approved" in got[RID + "alone"]


def test_an_account_alone_names_the_path_its_spend_takes():
    (msg,) = [m for _r, m in run(by001_gateway_bypass, Estate(accounts=(account("alone"),)))]
    assert msg == ("Azure OpenAI account 'alone' has no gateway in front and accepts API keys from the public network "
                   "(disableLocalAuth unset, public network access Enabled): anyone holding a key can spend on it from "
                   "anywhere. This is not an attribution gap (its spend: no known owner); it is spend no one approved")


def _logs_and_metrics(rid: str) -> DiagnosticSetting:
    return DiagnosticSetting(rid, "to-la", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights"
                             "/workspaces/la", logs=(LogSetting(None, "allLogs", True),),
                             metrics=(LogSetting("AllMetrics", None, True),))


def test_dg001_judges_every_account_and_skips_one_whose_settings_could_not_be_read():
    estate = Estate(accounts=(account("fine"), account("unread"), account("bare")),
                    diagnostic_settings=(_logs_and_metrics(RID + "fine"),),
                    gaps=(CollectionGap("unreadable", RID + "unread", "403 listing diagnosticSettings", status=403),))
    assert run(dg001_account_without_diagnostics, estate) == [
        (RID + "bare", "Azure OpenAI account 'bare' has no diagnostic setting; its own usage cannot be queried or "
                       "reconciled")]


def test_au003_names_what_was_read_and_says_nothing_was_checked():
    (msg,) = [m for _r, m in run(au003_no_llm_api, Estate())]
    assert msg == ("no LLM API and no Azure OpenAI / AI Services account found among 0 API(s) read from no source; "
                   "nothing about LLM cost attribution was checked")
    src = Estate(sources=(SourceInfo("apiops", "extract/", frozenset()),))
    assert "among 0 API(s) read from apiops extract/;" in run(au003_no_llm_api, src)[0][1]
    assert run(au003_no_llm_api, Estate(accounts=(account("a"),))) == []


def test_dg003_flags_apim_settings_to_azurediagnostics_only():
    from aoai_audit.checks import dg003_legacy_azurediagnostics

    apim = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/"
    la = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la"
    settings = (DiagnosticSetting(RID + "acct", "account-legacy", la),  # an account's own: not judged
                DiagnosticSetting(apim + "gw1", "to-storage"),  # no workspace
                DiagnosticSetting(apim + "gw1", "dedicated", la, destination_type="Dedicated"),
                DiagnosticSetting(apim + "gw2/", "legacy", la, destination_type="AzureDiagnostics"),
                DiagnosticSetting(apim + "gw3", "unset", la))
    assert run(dg003_legacy_azurediagnostics, Estate(diagnostic_settings=settings)) == [
        (apim + "gw2/", "diagnostic setting 'legacy' on APIM service 'gw2' writes to AzureDiagnostics "
                        "(logAnalyticsDestinationType is not Dedicated)"),
        (apim + "gw3", "diagnostic setting 'unset' on APIM service 'gw3' writes to AzureDiagnostics "
                       "(logAnalyticsDestinationType is not Dedicated)")]


# ---- DG002: the LLM log categories and LLM logging, per service, workspace and API --------------------------------------
def _dg002(*diagnostics, settings=(), gaps=(), ws_api=False):
    from aoai_audit.checks import dg002_gateway_llm_logs_off
    from aoai_audit.estate import Api

    gw = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw"
    apis = (Api("chat", service_url="https://a.openai.azure.com/openai"),
            Api("embed", service_url="https://a.openai.azure.com/openai", workspace="ws" if ws_api else None))
    source = SourceInfo("arm", "t.json", frozenset({"apis", "policies", "apim-logging", "diagnostic-settings"}))
    estate = Estate(sources=(source,), services=(ApimService("gw", gw, apis=apis, diagnostics=diagnostics),),
                    diagnostic_settings=settings, gaps=gaps)
    return [(r, m.split(";")[0]) for r, m in run(dg002_gateway_llm_logs_off, estate)]


def test_dg002_names_the_missing_categories_unless_the_settings_could_not_be_read():
    from aoai_audit.estate import Diagnostic

    on = Diagnostic("azuremonitor", llm_logging="enabled")
    la = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la"
    gw = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw"
    half = DiagnosticSetting(gw, "gw-logs", la, logs=(LogSetting("GatewayLogs", None, True),))
    assert _dg002(on, settings=(half,)) == [
        ("service/gw", "APIM service 'gw' fronts LLM APIs but no diagnostic setting in what was scanned sends "
                       "GatewayLlmLogs to Log Analytics")]
    unread = CollectionGap("unreadable", gw, "403 listing diagnosticSettings", status=403)
    assert _dg002(on, gaps=(unread,)) == []


def test_dg002_an_apis_own_diagnostic_decides_for_it_and_the_services_for_the_rest():
    from aoai_audit.estate import Diagnostic

    la = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la"
    gw = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw"
    both = DiagnosticSetting(gw, "all", la, logs=(LogSetting(None, "allLogs", True),))
    off, on = Diagnostic("azuremonitor", llm_logging="disabled"), Diagnostic("azuremonitor", llm_logging="enabled")
    chat_off = Diagnostic("azuremonitor", api="chat", llm_logging="disabled")
    chat_on = Diagnostic("azuremonitor", api="chat", llm_logging="enabled")
    assert _dg002(on, chat_off, settings=(both,)) == [
        ("service/gw/apis/chat", "APIM service 'gw': the azuremonitor diagnostic of API chat has LLM logging disabled")]
    assert _dg002(off, chat_on, settings=(both,)) == [
        ("service/gw", "APIM service 'gw': the azuremonitor diagnostic has LLM logging disabled, and LLM API(s) embed "
                       "do not enable it for themselves")]
    ws_off = Diagnostic("azuremonitor", llm_logging="disabled", workspace="ws")
    assert _dg002(on, ws_off, settings=(both,), ws_api=True) == [
        ("service/gw/workspaces/ws", "APIM service 'gw' workspace 'ws': the azuremonitor diagnostic has LLM logging "
                                     "disabled, and LLM API(s) embed do not enable it for themselves")]
