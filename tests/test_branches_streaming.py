"""ST002 branch by branch: which api-versions the backend is called with, whether the policy asks for the usage
chunk, and the streamed share it states (issue 29)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from aoai_audit.checks.st002_streamed_usage_estimated import (
    api_versions,
    asks_for_usage,
    supports_stream_options,
)
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.model import UsageData, UsageRow
from conftest import audit


def inbound(xml: str):
    return read_policy(f"<policies><inbound>{xml}</inbound></policies>", scope="api").document.section("inbound").children


@pytest.mark.parametrize(("xml", "versions"), [
    ('<set-query-parameter name="api-version" exists-action="override"><value>2024-02-01</value></set-query-parameter>',
     ["2024-02-01"]),
    ('<set-query-parameter name="API-Version"><value>2024-10-21</value><value>@(x)</value></set-query-parameter>',
     ["2024-10-21"]),
    ('<set-query-parameter name="api-version" exists-action="delete"><value>2024-02-01</value></set-query-parameter>', []),
    ('<set-query-parameter name="other"><value>2024-02-01</value></set-query-parameter>', []),
    ('<rewrite-uri template="/openai/deployments/x/chat/completions?api-version=2023-05-15" />', ["2023-05-15"]),
    ('<rewrite-uri template="/x?api-version={version}" />', []),
    ('<rewrite-uri template="/x?api-version=2024-02-01" /><rewrite-uri template="/y?api-version=2024-02-01" />',
     ["2024-02-01"]),
])
def test_api_versions_sent_to_the_backend(xml, versions):
    assert api_versions(inbound(xml)) == versions


@pytest.mark.parametrize(("version", "supports"), [
    ("2024-09-01-preview", True), ("2024-10-21", True), ("2024-08-01-preview", False), ("2023-05-15", False),
    ("preview", True), ("V1", True), ("latest", True), ("someday", False),
])
def test_stream_options_since_2024_09_01(version, supports):
    assert supports_stream_options(version) is supports


ASK = '<set-body>@{ var b = context.Request.Body.As&lt;JObject&gt;(); b["stream_options"] = new JObject(new JProperty("include_usage", true)); return b.ToString(); }</set-body>'


@pytest.mark.parametrize(("xml", "expected"), [
    ("<set-header name='a'><value>b</value></set-header>", (False, False)),
    (ASK, (True, False)),
    (f'<choose><when condition="@(context.Request.Url.Query.GetValueOrDefault(&quot;api-version&quot;, &quot;&quot;).CompareTo(&quot;2024-09-01&quot;) &gt;= 0)">{ASK}</when></choose>',
     (True, True)),
    ('<set-variable name="x" value="include_usage" />', (True, False)),
])
def test_asks_for_usage_and_whether_it_tests_the_api_version(xml, expected):
    assert asks_for_usage(inbound(xml)) == expected


METRIC = '<llm-emit-token-metric><dimension name="Subscription ID" /></llm-emit-token-metric>'


def policy(tmp_path, inbound_xml: str):
    """A loose policy for LLM API 'chat' (its backend an Azure OpenAI endpoint)."""
    path = tmp_path / "chat.policy.xml"
    path.write_text('<policies><inbound><base /><set-backend-service base-url="https://contoso.openai.azure.com/openai" />'
                    f"{inbound_xml}</inbound><backend><base /></backend><outbound><base /></outbound>"
                    "<on-error><base /></on-error></policies>")
    return path


def findings(path, registry, rule_id):
    result = audit(str(path), registry, only=(rule_id,))
    assert result.ctx.llm_apis and rule_id not in {n.rule.id for n in result.not_evaluated}
    return [f for f in result.findings if f.rule_id == rule_id]


def _version(v: str) -> str:
    return f'<set-query-parameter name="api-version" exists-action="override"><value>{v}</value></set-query-parameter>'


@pytest.mark.parametrize(("inbound_xml", "says"), [
    (METRIC + _version("2024-02-01") + ASK, "but the backend is called with api-version 2024-02-01, older than 2024-09-01-preview, which rejects"),
    (METRIC + _version("2024-02-01"), "api-version 2024-02-01, older than 2024-09-01-preview: the usage chunk"),
    (METRIC + ASK, "it is added whatever the api-version"),
    (METRIC + _version("2024-10-21") + ASK, "asks for the usage chunk"),
    (METRIC + _version("2024-10-21"), "; api-version 2024-10-21 accepts stream_options.include_usage"),
    (METRIC, "ask for the usage chunk (stream_options.include_usage) only for callers on api-version 2024-09-01-preview"),
])
def test_st002_advice_follows_versions_and_the_usage_chunk(tmp_path, registry, inbound_xml, says):
    (f,) = findings(policy(tmp_path, inbound_xml), registry, "ST002")
    assert says in f.message and "API 'chat'" in f.message


def test_st002_version_advice_without_the_ungated_caveat_when_a_version_is_known(tmp_path, registry):
    (f,) = findings(policy(tmp_path, METRIC + _version("2024-10-21") + ASK), registry, "ST002")
    assert "whatever the api-version" not in f.message


def test_st002_states_the_streamed_share_of_the_apis_own_rows(tmp_path, registry):
    day = dt.date(2026, 11, 1)
    rows = (UsageRow(day, consumer="a", api="chat", total_tokens=800, streamed_tokens=300),
            UsageRow(day, consumer="b", api="CHAT", total_tokens=200, streamed_tokens=0),
            UsageRow(day, consumer="c", api="other", total_tokens=5_000, streamed_tokens=5_000))
    path = policy(tmp_path, METRIC)
    estate = replace(load_paths([str(path)]), usage=UsageData(rows=rows, window=(day, day), origin="u.csv"))
    (f,) = [f for f in run_audit(estate, registry, Settings(only=("ST002",))).findings if f.rule_id == "ST002"]
    assert "(300 of its 1,000 gateway tokens in the window, 30.0%, were streamed)" in f.message
