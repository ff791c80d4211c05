"""Behaviours the final mutation run (issue 29) showed untested: each test is written from RULES.md and the hand
figures in its fixture, asserting what a finding names or what a figure is, not which line was changed."""

from __future__ import annotations

import json
import shutil

from branch_policies import METRIC, findings, line_of, policy

from conftest import ROOT

ARCH = ROOT / "tests" / "fixtures" / "architectures"


# ---- ST001: the streaming guard is a variable the branch READS, and the message names where the body is parsed ---
def _log(expr: str) -> str:
    return f'<log-to-eventhub logger-id="usage-hub">@{{ {expr} }}</log-to-eventhub>'


_SSE_FLAG = ('<set-variable name="{name}" value="@(context.Request.Body.As&lt;JObject&gt;(true)'
             '[&quot;stream&quot;] != null)" />')
_PARSE = 'return context.Response.Body.As<JObject>(preserveContent: true)["usage"].ToString();'


def test_st001_a_branch_on_a_variable_holding_the_stream_flag_guards_the_parse(tmp_path, registry):
    """The variable's name says nothing of streams (`sse`): its value does, and the <when> reads it."""
    guarded = ('<choose><when condition="@((bool)context.Variables[&quot;sse&quot;])" /><otherwise>'
               + _log(_PARSE) + "</otherwise></choose>")
    assert findings(policy(tmp_path, METRIC + _SSE_FLAG.format(name="sse"), outbound=guarded), registry, "ST001") == []


def test_st001_a_stream_flag_the_parse_does_not_read_guards_nothing(tmp_path, registry):
    """A stream flag in a variable named `s` is not read by the parse just because the parse's text contains an
    's' (`usage`, `Response`): the parse is unguarded and fires, with no mention of another statement."""
    path = policy(tmp_path, METRIC + _SSE_FLAG.format(name="s"), outbound=_log(_PARSE))
    (f,) = findings(path, registry, "ST001")
    assert f.location.line == line_of(path, "usage-hub")
    assert "<log-to-eventhub> reads usage from the response body parsed as JSON with no branch for streamed" in f.message


def test_st001_an_unrelated_variable_with_a_stream_flag_guards_nothing(tmp_path, registry):
    guarded_elsewhere = ('<choose><when condition="@((bool)context.Variables[&quot;other&quot;])" /><otherwise>'
                         + _log(_PARSE) + "</otherwise></choose>")
    path = policy(tmp_path, METRIC + _SSE_FLAG.format(name="sse"), outbound=guarded_elsewhere)
    (f,) = findings(path, registry, "ST001")
    assert f.location.line == line_of(path, "usage-hub")


# ---- KQ002: a consumer paid by its resource is skipped, and the consumers after it are still judged --------------
def test_kq002_names_gateway_consumers_listed_after_one_attributed_by_resource(tmp_path):
    """mixed (README): acct-alpha is team alpha's by tag. A gateway consumer on it, larger than gamma and delta
    (so listed first), is paid by the resource; gamma and delta, at the shared gateway, still need a mapping."""
    from test_architectures import scan

    target = tmp_path / "mixed"
    shutil.copytree(ARCH / "mixed", target)
    with (target / "usage.csv").open("a") as out:
        out.write("2026-11-01,gateway,Subscription ID,alpha-app,apim-shared,chat,gpt-4o-mini,2024-07-18,chat,"
                  "acct-alpha,token-metrics,3500000,0\n")
    (target / "cost-centres.yaml").write_text("cost_centres:\n  - consumer: someone-else\n    cost_centre: CC-9\n")
    doc = json.loads(scan(target)[1])
    named = {f["message"].split("'")[1] for f in doc["findings"] if f["rule_id"] == "KQ002"}
    assert named == {"gamma", "delta"}


# ---- BY001: which account a gateway host names --------------------------------------------------------------------
def _by001(*accounts):
    import dataclasses

    from aoai_audit.checks import by001_gateway_bypass
    from aoai_audit.config import Settings
    from aoai_audit.context import build_context
    from aoai_audit.sources.detect import load_paths

    estate = load_paths([str(ROOT / "tests/fixtures/rules/live-estates/BY001.json")])
    (fronted,) = estate.accounts  # aoai-eastus, called by the gateway at https://aoai-eastus.openai.azure.com
    more = tuple(dataclasses.replace(fronted, **change) for change in accounts)
    ctx = build_context(dataclasses.replace(estate, accounts=(fronted, *more)), Settings())
    return {f.resource: f.message for f in by001_gateway_bypass.check(ctx)}, fronted.resource_id


def test_by001_a_same_named_account_in_another_group_is_not_behind_the_gateway():
    twin_id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-other/providers/" \
              "Microsoft.CognitiveServices/accounts/aoai-eastus"
    got, fronted = _by001({"resource_id": twin_id, "endpoint": "https://aoai-eastus-2.openai.azure.com/"})
    assert got[fronted].startswith("Azure OpenAI account 'aoai-eastus' behind the gateway accepts API keys")
    assert got[twin_id].startswith("Azure OpenAI account 'aoai-eastus' has no gateway in front")


def test_by001_an_account_whose_name_ends_another_accounts_host_is_not_behind_the_gateway():
    rid = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai/providers/" \
          "Microsoft.CognitiveServices/accounts/eastus"
    got, _ = _by001({"resource_id": rid, "name": "eastus", "endpoint": ""})
    assert got[rid].startswith("Azure OpenAI account 'eastus' has no gateway in front")


# ---- OW001: an account whose resource id was not read is named by its name, not by an empty resource ------------
def test_ow001_names_an_account_without_a_resource_id_by_its_name():
    import dataclasses

    from aoai_audit.checks import ow001_no_owner
    from aoai_audit.config import Settings
    from aoai_audit.context import build_context
    from aoai_audit.sources.detect import load_paths

    estate = load_paths([str(ROOT / "tests/fixtures/rules/live-estates/BY001.json")])
    (acct,) = estate.accounts
    estate = dataclasses.replace(estate, services=(), accounts=(dataclasses.replace(acct, resource_id="", tags=()),))
    (f,) = ow001_no_owner.check(build_context(estate, Settings()))
    assert f.resource == "aoai-eastus"
    assert f.message.startswith("account 'aoai-eastus': no owner is known (no owner tag, no cost-centre map entry")


# ---- RB001/RB002: where metrics live without Application Insights; an unread role elsewhere hides nothing ------
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
APIM = f"{SUB}/resourceGroups/rg-ai/providers/Microsoft.ApiManagement/service/contoso-apim"
_ROLES_READ = "Reader on the subscription (Microsoft.Authorization/roleAssignments/read)"  # live/monitor.py


def _rb(tmp_path, registry, rule_id, change):
    from conftest import audit

    doc = json.loads((ROOT / f"tests/fixtures/rules/live-estates/{rule_id}.json").read_text())
    change(doc["estate"])
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    result = audit(str(path), registry, only=(rule_id,))
    return [f for f in result.findings if f.rule_id == rule_id]


def test_rb001_without_an_application_insights_logger_the_metrics_live_on_the_service(tmp_path, registry):
    def no_loggers(estate):
        for svc in estate["services"]:
            svc["loggers"] = []
    (f,) = _rb(tmp_path, registry, "RB001", no_loggers)
    assert f.resource == APIM and "cannot read metrics on contoso-apim" in f.message


def test_rb002_an_unreadable_role_assigned_in_a_resource_group_does_not_hide_the_subscription(tmp_path, registry):
    """The role definition of an assignment on rg-ai could not be read (403): that leaves rg-ai's access unknown,
    not the subscription's, so the missing Cost Management read on the subscription is still reported."""
    dead = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/00000000-dead-0000-0000-000000000000"

    def unread_role(estate):
        estate["role_assignments"].append({
            "scope": f"{SUB}/resourceGroups/rg-ai", "role_definition_id": dead,
            "principal_id": estate["reader_principal"], "principal_type": "ServicePrincipal", "origin": {}})
        estate["gaps"] = [{"kind": "unreadable", "target": dead, "message": "403 AuthorizationFailed", "status": 403,
                           "needs": _ROLES_READ}]
    (f,) = _rb(tmp_path, registry, "RB002", unread_role)
    assert f.resource == SUB


# ---- usage: the unknown bucket's markers, the streamed total, the dearest cached rate, meter names -------------
def test_undefined_is_nobody_and_lands_in_the_unknown_bucket():
    """A JavaScript-side fallback of 'undefined' in a dimension names no team (RULES.md: unknown values)."""
    from test_branches_usage import D1, gateway, score

    u = score(gateway(D1, "undefined", 300, 100, model="gpt-4o"), gateway(D1, "team-a", 10, 0, model="gpt-4o"))
    assert [c.value for c in u.consumers] == ["team-a"]
    assert u.unknown.tokens == 400


def test_streamed_tokens_are_the_sum_of_the_rows_streamed_tokens():
    from test_branches_usage import D1, gateway, score

    u = score(gateway(D1, "team-a", 1_000, 500, model="gpt-4o", streamed_tokens=600),
              gateway(D1, "team-b", 2_000, 0, model="gpt-4o", streamed_tokens=250),
              gateway(D1, "team-c", 50, 0, model="gpt-4o"))
    assert u.streamed_tokens == 850


def test_the_high_end_of_a_range_charges_cached_input_at_the_dearest_cached_rate():
    from decimal import Decimal

    from aoai_audit.usage.prices import Price
    from aoai_audit.usage.served import Mix, Served, price_range

    big = Served("a", "d1", "gpt-4o", "", "global", "",
                 Price("gpt-4o", "", "global", "*", Decimal(2), Decimal(8), Decimal("1.25")))
    small = Served("a", "d2", "gpt-4o-mini", "", "global", "",
                   Price("gpt-4o-mini", "", "global", "*", Decimal("0.5"), Decimal(2)))
    mix = Mix({big: [Decimal(1), Decimal(1)], small: [Decimal(1), Decimal(1)]})
    # 1,000,000 in of which 200,000 cached, 100,000 out (rates per 1M):
    # low  800k × 0.5 + 200k × 0.5 (mini: no cached rate, its input rate) + 100k × 2 = 0.4 + 0.1 + 0.2 = 0.7
    # high 800k × 2   + 200k × 1.25                                      + 100k × 8 = 1.6 + 0.25 + 0.8 = 2.65
    assert price_range(mix, Decimal(1_000_000), Decimal(200_000), Decimal(100_000)) == (Decimal("0.7"),
                                                                                        Decimal("2.65"))


def test_meter_names_spelling_the_direction_in_full_or_as_in():
    from aoai_audit.usage.prices import parse_meter

    assert parse_meter("o3 mini 0131 input glbl") == ("o3-mini", "0131", "global", "input", False)
    assert parse_meter("gpt 4o 0806 Input regnl") == ("gpt-4o", "0806", "regional", "input", False)
    assert parse_meter("gpt-4o In glbl") == ("gpt-4o", "", "global", "input", False)


def test_the_cost_query_filters_on_the_resource_type_dimension():
    """QueryFilter: {"dimensions": {"name", "operator": "In", "values"}} (Cost Management Query - Usage,
    https://learn.microsoft.com/rest/api/cost-management/query/usage#queryfilter); a wrong dimension name is a
    400 from the service, so the billed read would fail on every subscription."""
    import datetime as dt

    from aoai_audit.usage.billed import cost_query

    body = cost_query(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert body["dataset"]["filter"] == {"dimensions": {"name": "ResourceType", "operator": "In",
                                                        "values": ["microsoft.cognitiveservices/accounts"]}}


# ---- rule references: every one is a Microsoft Learn (or GitHub) page a reader can open --------------------------
def test_every_rule_reference_is_an_https_page_on_learn_or_github(registry):
    urls = [url for rule in registry.rules for _title, url in rule.references]
    assert urls
    bad = [u for u in urls if not u.startswith(("https://learn.microsoft.com/", "https://github.com/"))]
    assert bad == []


def test_a_rule_that_names_the_llm_log_table_cites_its_schema_page(registry):
    """DG002 and DG003 explain themselves by the ApiManagementGatewayLlmLog table: the reader gets its reference."""
    table = "https://learn.microsoft.com/azure/azure-monitor/reference/tables/apimanagementgatewayllmlog"
    naming = {r.id for r in registry.rules if "ApiManagementGatewayLlmLog" in r.rationale + r.detection}
    assert {"DG002", "DG003"} <= naming
    assert [r.id for r in registry.rules if r.id in naming and table not in {u for _t, u in r.references}] == []


# ---- whether the LLM log is queried: settings that send it, or settings not known (unknown is not none) ---------
_APIM_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"
_LA = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la"


def _may_log(carries, *settings):
    from aoai_audit.estate import ApimService, Estate, SourceInfo
    from aoai_audit.usage.kql import may_log_llm

    svc = ApimService("apim", resource_id=_APIM_ID)
    estate = Estate(sources=(SourceInfo("arm", "main.json", frozenset(carries)),), services=(svc,),
                    diagnostic_settings=settings)
    return may_log_llm(estate, svc)


def test_the_llm_log_is_queried_when_the_input_carries_no_diagnostic_settings():
    from aoai_audit.estate import CARRIES_POLICIES

    assert _may_log({CARRIES_POLICIES}) is True


def test_the_llm_log_is_queried_when_a_setting_sends_it_to_resource_specific_tables_only():
    from aoai_audit.estate import CARRIES_DIAGNOSTIC_SETTINGS, DiagnosticSetting, LogSetting

    def setting(category, destination):
        return DiagnosticSetting(_APIM_ID, "to-la", _LA, logs=(LogSetting(category, None, True),),
                                 destination_type=destination)
    assert _may_log({CARRIES_DIAGNOSTIC_SETTINGS}, setting("GatewayLlmLogs", "Dedicated")) is True
    # known settings: LLM logs into AzureDiagnostics, or only the gateway log, leave the LLM log table empty
    assert _may_log({CARRIES_DIAGNOSTIC_SETTINGS}, setting("GatewayLlmLogs", None)) is False
    assert _may_log({CARRIES_DIAGNOSTIC_SETTINGS}, setting("GatewayLogs", "Dedicated")) is False
