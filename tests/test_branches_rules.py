"""Every branch of the policy rules' verdicts, fires and passes, asserted on what the finding names (issue 29)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import audit

BACKEND = '<set-backend-service base-url="https://contoso.openai.azure.com/openai" />'
METRIC = '<llm-emit-token-metric namespace="llm-usage"><dimension name="Subscription ID" /></llm-emit-token-metric>'


def policy(tmp_path: Path, inbound: str, *, name="chat", backend="", outbound="", on_error="") -> Path:
    """A loose APIM policy file for LLM API `name` (its backend is an Azure OpenAI endpoint)."""
    path = tmp_path / f"{name}.policy.xml"
    path.write_text(
        "<policies>\n<inbound>\n<base />\n" + BACKEND + "\n" + inbound + "\n</inbound>\n"
        f"<backend>\n<base />\n{backend}\n</backend>\n<outbound>\n<base />\n{outbound}\n</outbound>\n"
        f"<on-error>\n<base />\n{on_error}\n</on-error>\n</policies>\n"
    )
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def findings(path, registry, rule_id):
    result = audit(str(path), registry, only=(rule_id,))
    assert rule_id not in {n.rule.id for n in result.not_evaluated}
    assert result.ctx.llm_apis, "the fixture must be an LLM API, or the rule says nothing"
    return [f for f in result.findings if f.rule_id == rule_id]


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
