"""Every branch of the policy rules' verdicts, fires and passes, asserted on what the finding names (issue 29)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from branch_policies import BACKEND, METRIC, findings, line_of, policy

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.files import load_usage_file
from conftest import EXAMPLE, ROOT, audit

# ---- HD003: which set-header exists-action makes the header the gateway's own ---------------------------------
TEAM_DIM = ('<llm-emit-token-metric namespace="llm-usage"><dimension name="Team" '
            'value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team-id&quot;, &quot;&quot;))" />'
            '</llm-emit-token-metric>')


def _set_team(action: str | None) -> str:
    attr = f' exists-action="{action}"' if action is not None else ""
    return f'<set-header name="X-Team-Id"{attr}><value>@(context.Subscription.Id)</value></set-header>'


@pytest.mark.parametrize("action", ["skip", "SKIP"])
def test_hd003_header_set_with_skip_keeps_the_callers_value(tmp_path, registry, action):
    path = policy(tmp_path, _set_team(action) + "\n" + TEAM_DIM)
    (f,) = findings(path, registry, "HD003")
    assert "dimension 'Team'" in f.message and "header 'x-team-id'" in f.message
    assert f.location.line == line_of(path, "<llm-emit-token-metric")


@pytest.mark.parametrize("action", ["override", "delete", "Override", None])
def test_hd003_header_overridden_deleted_or_set_by_default_is_the_gateways(tmp_path, registry, action):
    assert findings(policy(tmp_path, _set_team(action) + "\n" + TEAM_DIM), registry, "HD003") == []


def test_hd003_override_after_the_metric_comes_too_late(tmp_path, registry):
    path = policy(tmp_path, TEAM_DIM + "\n" + _set_team("override"))
    (f,) = findings(path, registry, "HD003")
    assert "header 'x-team-id'" in f.message


def test_hd003_override_of_another_header_does_not_count(tmp_path, registry):
    other = '<set-header name="x-other" exists-action="override"><value>a</value></set-header>'
    (f,) = findings(policy(tmp_path, other + "\n" + TEAM_DIM), registry, "HD003")
    assert "header 'x-team-id'" in f.message


def test_hd003_forwarded_attribution_header_names_the_header_and_its_source(tmp_path, registry):
    forwarded = ('<set-header name="x-attribution-id" exists-action="override">'
                 '<value>@(context.Request.Headers.GetValueOrDefault("x-app", "none"))</value></set-header>')
    path = policy(tmp_path, METRIC + "\n" + forwarded)
    (f,) = findings(path, registry, "HD003")
    assert "forwarded header 'x-attribution-id'" in f.message and "header 'x-app'" in f.message
    assert f.location.line == line_of(path, "x-attribution-id")


def test_hd003_header_validated_as_a_token_passes(tmp_path, registry):
    jwt = ('<validate-jwt header-name="x-team-id" failed-validation-httpcode="401">'
           '<openid-config url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration" />'
           '</validate-jwt>')
    assert findings(policy(tmp_path, jwt + "\n" + TEAM_DIM), registry, "HD003") == []


# ---- TM002: every metric of an effective inbound is judged, not only the first ------------------------------------
def test_tm002_second_metric_without_consumer_dimension_fires(tmp_path, registry):
    second = '<llm-emit-token-metric namespace="by-region"><dimension name="Location" /></llm-emit-token-metric>'
    path = policy(tmp_path, METRIC + "\n" + second)
    (f,) = findings(path, registry, "TM002")
    assert "namespace 'by-region'" in f.message and "dimensions Location," in f.message
    assert f.location.line == line_of(path, "by-region")


def test_tm002_metric_without_dimensions_names_none_and_the_default_namespace(tmp_path, registry):
    path = policy(tmp_path, "<llm-emit-token-metric />")
    (f,) = findings(path, registry, "TM002")
    assert "namespace 'API Management'" in f.message and "dimensions none," in f.message


@pytest.mark.parametrize("dimension", ["Subscription ID", "Product ID", "User ID"])
def test_tm002_a_builtin_consumer_dimension_passes(tmp_path, registry, dimension):
    metric = f'<llm-emit-token-metric><dimension name="{dimension}" /></llm-emit-token-metric>'
    assert findings(policy(tmp_path, metric), registry, "TM002") == []


# ---- TM001: a metric in a section where it never runs is named, with its section ----------------------------------
@pytest.mark.parametrize("section", ["backend", "outbound", "on-error"])
def test_tm001_names_the_misplaced_metric_and_its_section(tmp_path, registry, section):
    path = policy(tmp_path, "", **{section.replace("-", "_"): METRIC})
    (f,) = findings(path, registry, "TM001")
    misplaced = [e for e in f.evidence if "never runs" in e]
    assert len(misplaced) == 1
    assert f":{line_of(path, 'llm-emit-token-metric')}:" in misplaced[0] and f"<llm-emit-token-metric> is in the {section} section" in misplaced[0]
    assert "API 'chat'" in f.message


def test_tm001_metric_in_inbound_passes_and_one_elsewhere_too(tmp_path, registry):
    assert findings(policy(tmp_path, METRIC, outbound=METRIC), registry, "TM001") == []


# ---- ST001: the body read as text, searched for usage, is not parsed JSON -----------------------------------------
def _log(expr: str) -> str:
    return f'<log-to-eventhub logger-id="usage-hub">@{{ {expr} }}</log-to-eventhub>'


def test_st001_body_as_text_searched_for_usage_without_parsing_passes(tmp_path, registry):
    text = _log('return context.Response.Body.As<string>(preserveContent: true).Contains("usage").ToString();')
    assert findings(policy(tmp_path, METRIC, outbound=text), registry, "ST001") == []


def test_st001_body_as_text_then_parsed_fires_at_the_statement(tmp_path, registry):
    text = _log('return JObject.Parse(context.Response.Body.As<string>(preserveContent: true))["usage"].ToString();')
    path = policy(tmp_path, METRIC, outbound=text)
    (f,) = findings(path, registry, "ST001")
    assert "<log-to-eventhub>" in f.message and f.location.line == line_of(path, "usage-hub")


def test_st001_text_variable_parsed_later_names_the_reading_statement(tmp_path, registry):
    read = '<set-variable name="raw" value="@(context.Response.Body.As&lt;string&gt;(preserveContent: true))" />'
    use = _log('return JObject.Parse((string)context.Variables["raw"])["usage"].ToString();')
    path = policy(tmp_path, METRIC, outbound=read + "\n" + use)
    (f,) = findings(path, registry, "ST001")
    assert "<set-variable 'raw'>" in f.message and f.location.line == line_of(path, "usage-hub")


def test_st001_refusing_streams_in_one_api_does_not_silence_another(tmp_path, registry):
    refuse = ('<choose><when condition="@(context.Request.Body.As&lt;JObject&gt;(true)[&quot;stream&quot;] != null)">'
              '<return-response><set-status code="400" /></return-response></when></choose>')
    parse = _log('return context.Response.Body.As<JObject>(preserveContent: true)["usage"].ToString();')
    policy(tmp_path, METRIC + "\n" + refuse, name="a-refuses", outbound=parse)
    fires = policy(tmp_path, METRIC, name="b-fires", outbound=parse)
    result = findings(tmp_path, registry, "ST001")
    assert [(f.resource, f.location.line) for f in result] == [("service/files/apis/b-fires", line_of(fires, "usage-hub"))]


def test_st001_streaming_branch_guards_the_parse(tmp_path, registry):
    guarded = ('<choose><when condition="@(context.Response.Headers.GetValueOrDefault(&quot;Content-Type&quot;,'
               ' &quot;&quot;).Contains(&quot;text/event-stream&quot;))" /><otherwise>'
               + _log('return context.Response.Body.As<JObject>(true)["usage"].ToString();') + "</otherwise></choose>")
    assert findings(policy(tmp_path, METRIC, outbound=guarded), registry, "ST001") == []


# ---- TM007: an API-level policy (not an operation) that drops <base/> -----------------------------------------------
def _apiops(root: Path, api_inbound: str) -> Path:
    service = root / "apim"
    (service / "apis" / "chat").mkdir(parents=True)
    (service / "policy.xml").write_text(f"<policies><inbound>{METRIC}</inbound><backend><forward-request /></backend>"
                                        "<outbound /><on-error /></policies>")
    (service / "apis" / "chat" / "apiInformation.json").write_text(
        '{"properties": {"displayName": "Chat", "path": "chat", "serviceUrl": "https://contoso.openai.azure.com/openai"}}')
    (service / "apis" / "chat" / "policy.xml").write_text(
        f"<policies>\n<inbound>\n{api_inbound}\n</inbound>\n<backend><base /></backend><outbound><base /></outbound>"
        "<on-error><base /></on-error></policies>\n")
    return service


def test_tm007_api_level_policy_without_base_loses_the_global_metric(tmp_path, registry):
    service = _apiops(tmp_path, BACKEND)
    (f,) = findings(service, registry, "TM007")
    assert f.resource == "service/apim/apis/chat"
    assert "global" in f.message and "API 'Chat'" in f.message
    assert f.location.path.endswith("apis/chat/policy.xml") and f.location.line == 2


def test_tm007_api_level_policy_with_base_passes(tmp_path, registry):
    assert findings(_apiops(tmp_path, "<base />\n" + BACKEND), registry, "TM007") == []


# ---- BY001: each exemption on its own, and the account named -------------------------------------------------------
def _by001(tmp_path, registry, **account):
    doc = json.loads((ROOT / "tests/fixtures/rules/live-estates/BY001.json").read_text())
    doc["estate"]["accounts"][0].update(account)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    result = audit(str(path), registry, only=("BY001",))
    assert "BY001" not in {n.rule.id for n in result.not_evaluated}
    return [f for f in result.findings if f.rule_id == "BY001"]


@pytest.mark.parametrize("exemption", [
    {"disable_local_auth": True},
    {"public_network_access": "Disabled"},
    {"public_network_access": "disabled"},
    {"network_default_action": "Deny"},
    {"network_default_action": "deny"},
])
def test_by001_each_exemption_alone_passes(tmp_path, registry, exemption):
    assert _by001(tmp_path, registry, **exemption) == []


@pytest.mark.parametrize(("account", "says"), [
    ({}, "disableLocalAuth unset, public network access Enabled"),
    ({"disable_local_auth": False, "network_default_action": "Allow"}, "disableLocalAuth false, public network access Enabled"),
    ({"public_network_access": None}, "public network access default (enabled)"),
])
def test_by001_open_account_is_named_with_its_settings(tmp_path, registry, account, says):
    (f,) = _by001(tmp_path, registry, **account)
    assert f.resource.endswith("/accounts/aoai-eastus")
    assert "account 'aoai-eastus' behind the gateway" in f.message and says in f.message


def test_by001_account_no_api_calls_is_not_said_to_be_behind_the_gateway(tmp_path, registry):
    (f,) = _by001(tmp_path, registry, name="aoai-other", endpoint="https://aoai-other.openai.azure.com/")
    assert "account 'aoai-other' has no gateway in front and accepts API keys" in f.message


# ---- KQ001: the threshold itself, and where the unknown tokens came from -------------------------------------------
HEADER = ("day,dimension,consumer,api,product,input_tokens,cached_input_tokens,output_tokens,reasoning_tokens,"
          "total_tokens,source,gateway_source,service\n")


def _usage_audit(tmp_path, registry, rows: list[tuple[str, str, int]], **settings):
    """Gateway rows (consumer, api, total tokens) on one day, audited with the example estate."""
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + "".join(f"2026-11-01,Team,{c},{api},,{n},0,0,0,{n},gateway,token-metrics,contoso-apim\n"
                                     for c, api, n in rows))
    estate = replace(load_paths([str(EXAMPLE)]), usage=load_usage_file(str(path)))
    return [f for f in run_audit(estate, registry, Settings(only=("KQ001",), **settings)).findings if f.rule_id == "KQ001"]


def test_kq001_exactly_at_the_threshold_passes_and_one_token_above_fires(tmp_path, registry):
    assert _usage_audit(tmp_path, registry, [("team-a", "chat", 950), ("", "chat", 50)]) == []
    (f,) = _usage_audit(tmp_path, registry, [("team-a", "chat", 949), ("", "chat", 51)])
    assert f.message.startswith("5.1% of gateway-metered tokens (51 tokens") and f.tokens == 51
    assert "api 'chat'" in f.message


def test_kq001_threshold_is_the_settings(tmp_path, registry):
    rows = [("team-a", "chat", 900), ("", "chat", 100)]
    assert _usage_audit(tmp_path, registry, rows, unknown_share_threshold=0.10) == []
    assert len(_usage_audit(tmp_path, registry, rows, unknown_share_threshold=0.09)) == 1


def test_kq001_names_the_three_largest_sources_and_lists_five(tmp_path, registry):
    rows = [("team-a", "chat", 100)] + [("", f"api{n}", 10 * n) for n in range(1, 8)]  # api7 largest, then api6...
    (f,) = _usage_audit(tmp_path, registry, rows)
    assert f.tokens == 280 and "most came from api 'api7', api 'api6', api 'api5'" in f.message
    assert f.location.path == str(tmp_path / "usage.csv")
    listed = [e for e in f.evidence if e.startswith("api '")]
    assert listed == ["api 'api7': 70 tokens", "api 'api6': 60 tokens", "api 'api5': 50 tokens",
                      "api 'api4': 40 tokens", "api 'api3': 30 tokens"]


def test_kq001_without_gateway_tokens_says_nothing(tmp_path, registry):
    assert _usage_audit(tmp_path, registry, [("", "chat", 0)]) == []


def test_kq001_names_a_source_without_an_api(tmp_path, registry):
    (f,) = _usage_audit(tmp_path, registry, [("team-a", "chat", 10), ("", "", 90)])
    assert "most came from api '?'" in f.message


def test_st001_a_multi_statement_expression_in_an_attribute_is_read(tmp_path, registry):
    attr = ('<set-variable name="usage" value="@{ var u = context.Response.Body.As&lt;JObject&gt;(true)[&quot;usage&quot;];'
            ' return u.ToString(); }" />')
    path = policy(tmp_path, METRIC, outbound=attr)
    (f,) = findings(path, registry, "ST001")
    assert "<set-variable>" in f.message and f.location.line == line_of(path, 'name="usage"')
