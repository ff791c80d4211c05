"""ST002 follows the llm-emit-token-metric docs: streamed token metrics are estimated, whatever the request asks
for; its advice depends on the api-version the backend is called with (stream_options since 2024-09-01-preview)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.model import UsageData, UsageRow
from conftest import audit

POLICY = """<policies><inbound><base />
<set-backend-service base-url="https://contoso.openai.azure.com/openai" />{extra}
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
VERSION = '<set-query-parameter name="api-version" exists-action="override"><value>{}</value></set-query-parameter>'
INJECT = """<choose><when condition="@(context.Request.Body.As&lt;JObject&gt;(true).Value&lt;bool?&gt;(&quot;stream&quot;) == true)">
<set-body>@{{ var b = context.Request.Body.As<JObject>(true); b["stream_options"] = new JObject(new JProperty("include_usage", true)); return b.ToString(); }}</set-body>
</when></choose>"""


def message(registry, tmp_path, extra: str) -> str:
    (tmp_path / "chat.xml").write_text(POLICY.format(extra=extra))
    (finding,) = audit(str(tmp_path), registry, only=("ST002",)).findings
    return finding.message


@pytest.mark.parametrize("version", ["2024-10-21", "2024-09-01-preview", "2025-04-01-preview", "preview"])
def test_versions_that_know_stream_options_are_told_to_ask(registry, tmp_path, version):
    text = message(registry, tmp_path, VERSION.format(version))
    assert "estimate" in text and f"api-version {version} accepts stream_options.include_usage" in text


@pytest.mark.parametrize("version", ["2023-05-15", "2024-02-01", "2024-06-01", "2024-08-01-preview"])
def test_older_versions_are_not_told_to_inject_the_option(registry, tmp_path, version):
    text = message(registry, tmp_path, VERSION.format(version))
    assert "cannot be asked for" in text and "only the gateway's estimate" in text
    assert "ask for the usage chunk" not in text


def test_asking_for_the_usage_chunk_does_not_silence_it(registry, tmp_path):
    text = message(registry, tmp_path, INJECT)
    assert "leaves the metric an estimate" in text and "whatever the api-version" in text


def test_injecting_the_option_for_an_old_api_version_is_called_out(registry, tmp_path):
    text = message(registry, tmp_path, VERSION.format("2024-02-01") + INJECT)
    assert "rejects that parameter" in text


def test_the_streamed_share_is_stated_where_usage_is_known(registry, tmp_path):
    (tmp_path / "chat.xml").write_text(POLICY.format(extra=""))
    day = dt.date(2026, 11, 1)
    usage = UsageData(rows=(
        UsageRow(day, api="chat", dimension="Subscription ID", consumer="a", total_tokens=1000, streamed_tokens=250),
        UsageRow(day, api="other", dimension="Subscription ID", consumer="a", total_tokens=5000, streamed_tokens=5000),
    ))
    estate = replace(load_paths([str(tmp_path)]), usage=usage)
    (finding,) = [f for f in run_audit(estate, registry, Settings(only=("ST002",))).findings]
    assert "250 of its 1,000 gateway tokens in the window, 25.0%, were streamed" in finding.message
