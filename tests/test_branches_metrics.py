"""Token-metric rules TM005, TM008, TM009, TM010 branch by branch, asserted on what the finding names (issue 29)."""

from __future__ import annotations

import json
import shutil

import pytest
from branch_policies import BACKEND, METRIC, findings, line_of, policy

from conftest import ROOT


# ---- TM009: a metric inside a branch, and every branch covered -------------------------------------------------------
def _choose(when_metric: bool, otherwise: str | None) -> str:
    inner = METRIC if when_metric else "<set-header name='a'><value>b</value></set-header>"
    tail = f"<otherwise>{otherwise}</otherwise>" if otherwise is not None else ""
    return f'<choose><when condition="@(context.Request.Headers.ContainsKey(&quot;x-big&quot;))">{inner}</when>{tail}</choose>'


def test_tm009_metric_only_in_a_when_names_the_condition(tmp_path, registry):
    path = policy(tmp_path, _choose(True, None))
    (f,) = findings(path, registry, "TM009")
    assert 'runs only when @(context.Request.Headers.ContainsKey("x-big"))' in f.message
    assert f.location.line == line_of(path, "<choose>")


def test_tm009_metric_only_in_otherwise_says_otherwise(tmp_path, registry):
    (f,) = findings(policy(tmp_path, _choose(False, METRIC)), registry, "TM009")
    assert "runs only when otherwise;" in f.message


def test_tm009_metric_in_every_branch_with_an_otherwise_passes(tmp_path, registry):
    assert findings(policy(tmp_path, _choose(True, METRIC)), registry, "TM009") == []


def test_tm009_metric_in_when_and_an_empty_otherwise_fires(tmp_path, registry):
    assert len(findings(policy(tmp_path, _choose(True, "")), registry, "TM009")) == 1


def test_tm009_metric_in_some_operations_names_the_count_and_the_rest(tmp_path, registry):
    api = tmp_path / "apim" / "apis" / "chat"
    api.mkdir(parents=True)
    (api / "apiInformation.json").write_text(
        '{"properties": {"displayName": "Chat", "path": "chat", "serviceUrl": "https://contoso.openai.azure.com/openai",'
        ' "subscriptionRequired": true}}')
    (api / "policy.xml").write_text(f"<policies><inbound><base />{BACKEND}</inbound></policies>")
    for name, inbound in (("a-metered", "<base />" + METRIC), ("b-plain", "<base />"), ("c-plain", "<base />")):
        (api / "operations" / name).mkdir(parents=True)
        (api / "operations" / name / "policy.xml").write_text(f"<policies><inbound>{inbound}</inbound></policies>")
    (f,) = findings(tmp_path / "apim", registry, "TM009")
    assert f.message == "LLM API 'Chat': 1 of 3 operations emit the token metric; not metered: b-plain, c-plain"


# ---- TM008: where a token metric is stored, each way it is not -------------------------------------------------------
def _tm008(tmp_path, registry, *, logger_type="applicationInsights", diag="applicationinsights", metrics=None,
           api_metrics=None):
    service = tmp_path / "apim"
    shutil.copytree(ROOT / "tests/fixtures/rules/TM008/passes/apim", service)
    (service / "loggers/appinsights/loggerInformation.json").write_text(json.dumps(
        {"properties": {"loggerType": logger_type, "resourceId": "/subscriptions/0/resourceGroups/rg/x"}}))
    shutil.rmtree(service / "diagnostics")
    props = {"loggerId": "/loggers/appinsights", **({"metrics": metrics} if metrics is not None else {})}
    if diag:
        (service / "diagnostics" / diag).mkdir(parents=True)
        (service / "diagnostics" / diag / "diagnosticInformation.json").write_text(json.dumps({"properties": props}))
    if api_metrics is not None:
        folder = service / "apis/chat/diagnostics/applicationinsights"
        folder.mkdir(parents=True)
        (folder / "diagnosticInformation.json").write_text(json.dumps(
            {"properties": {"loggerId": "/loggers/appinsights", "metrics": api_metrics}}))
    return findings(service, registry, "TM008")


@pytest.mark.parametrize(("settings", "says"), [
    ({"metrics": False}, "diagnostic 'applicationinsights' has metrics false"),
    ({}, "diagnostic 'applicationinsights' has metrics not set (defaults to false)"),
    ({"diag": "azuremonitor", "metrics": True}, "there is no service-level applicationinsights diagnostic"),
    ({"logger_type": "azureEventHub", "metrics": True}, "the service has no Application Insights logger; "
                                                         "diagnostic 'applicationinsights' uses logger 'appinsights', "
                                                         "not an Application Insights logger"),
    ({"metrics": False, "api_metrics": False}, "diagnostic 'applicationinsights' has metrics false"),
])
def test_tm008_each_way_the_metric_goes_nowhere(tmp_path, registry, settings, says):
    (f,) = _tm008(tmp_path, registry, **settings)
    assert f.resource == "service/apim" and f.message.startswith("token metrics of 1 LLM API(s) (chat) are emitted")
    assert f.message.endswith(says)


@pytest.mark.parametrize("settings", [{"metrics": True}, {"metrics": False, "api_metrics": True}])
def test_tm008_service_or_api_diagnostic_with_metrics_passes(tmp_path, registry, settings):
    assert _tm008(tmp_path, registry, **settings) == []


# ---- TM005: namespaces, spellings and one source under two names, across APIs ---------------------------------------
def _metric(namespace: str | None, *dims: str) -> str:
    ns = f' namespace="{namespace}"' if namespace else ""
    return f"<llm-emit-token-metric{ns}>{''.join(dims)}</llm-emit-token-metric>"


def _dim(name: str, header: str | None = None, value: str | None = None) -> str:
    if header:
        value = f"@(context.Request.Headers.GetValueOrDefault(&quot;{header}&quot;, &quot;&quot;))"
    return f'<dimension name="{name}"' + (f' value="{value}"' if value else "") + " />"


def tm005(tmp_path, registry, a: str, b: str):
    policy(tmp_path, a, name="api-a")
    policy(tmp_path, b, name="api-b")
    return sorted((f.key, f.message) for f in findings(tmp_path, registry, "TM005"))


def test_tm005_two_namespaces_are_named_with_their_apis(tmp_path, registry):
    sub = _dim("Subscription ID")
    assert tm005(tmp_path, registry, _metric("llm", sub), _metric(None, sub)) == [
        ("namespace", "token metrics are emitted into 2 namespaces: 'API Management' in api-b; 'llm' in api-a")]


@pytest.mark.parametrize(("one", "two"), [("Team", "team_id"), ("TeamId", "Team-Id"), ("Team", "TEAM")])
def test_tm005_one_dimension_spelled_two_ways(tmp_path, registry, one, two):
    found = tm005(tmp_path, registry, _metric("llm", _dim(one, "x-team")), _metric("llm", _dim(two, "x-team")))
    assert [m for k, m in found if k.startswith("name:")] == [
        f"one dimension is spelled 2 ways: '{min(one, two)}' in api-{'a' if min(one, two) == one else 'b'}; "
        f"'{max(one, two)}' in api-{'b' if max(one, two) == two else 'a'}"]


def test_tm005_one_header_published_under_two_names(tmp_path, registry):
    found = tm005(tmp_path, registry, _metric("llm", _dim("Team", "x-team")), _metric("llm", _dim("Owner", "x-team")))
    assert found == [("source:header x-team",
                      "header x-team is published under different dimension names: 'Owner' in api-b; 'Team' in api-a")]


def test_tm005_one_expression_published_under_two_names(tmp_path, registry):
    value = "@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;t&quot;))"
    found = tm005(tmp_path, registry, _metric("llm", _dim("Team", value=value)), _metric("llm", _dim("Unit", value=value)))
    assert [k for k, _m in found] == ['source:expression @(context.Variables.GetValueOrDefault<string>("t"))']


def test_tm005_short_names_are_not_stripped_to_nothing_and_literals_are_no_source(tmp_path, registry):
    # "Id" and "Key" stay themselves (fewer than 3 letters after stripping); a literal value is not a source
    found = tm005(tmp_path, registry, _metric("llm", _dim("Id", value="a"), _dim("Key", value="a")),
                  _metric("llm", _dim("Id", value="a"), _dim("Key", value="a")))
    assert found == []


# ---- TM010: the variable a dimension reads, set before, after or never ------------------------------------------------
def _var_metric(read: str) -> str:
    return f'<llm-emit-token-metric><dimension name="Team" value="@({read})" /></llm-emit-token-metric>'


SET_T = '<set-variable name="t" value="a" />'


@pytest.mark.parametrize("read", ['context.Variables[&quot;t&quot;]',
                                  'context.Variables.GetValueOrDefault&lt;string&gt;(&quot;t&quot;, &quot;&quot;)'])
def test_tm010_variable_never_set_is_named(tmp_path, registry, read):
    path = policy(tmp_path, _var_metric(read))
    (f,) = findings(path, registry, "TM010")
    assert "dimension 'Team' reads variable 't'" in f.message and f.key == "Team:t"
    assert f.location.line == line_of(path, "<llm-emit-token-metric")


def test_tm010_set_after_the_metric_is_too_late_and_before_it_passes(tmp_path, registry):
    read = 'context.Variables[&quot;t&quot;]'
    late, early = tmp_path / "late", tmp_path / "early"
    late.mkdir()
    early.mkdir()
    assert len(findings(policy(late, _var_metric(read) + SET_T), registry, "TM010")) == 1
    assert findings(policy(early, SET_T + _var_metric(read)), registry, "TM010") == []


def test_tm010_an_output_variable_of_another_policy_counts_as_set(tmp_path, registry):
    jwt = '<validate-azure-ad-token tenant-id="t" output-token-variable-name="jwt" />'
    read = '((Jwt)context.Variables[&quot;jwt&quot;]).Claims.GetValueOrDefault(&quot;azp&quot;, &quot;&quot;)'
    assert findings(policy(tmp_path, jwt + _var_metric(read)), registry, "TM010") == []
