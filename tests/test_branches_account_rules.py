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
