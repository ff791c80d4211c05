"""Operations whose scope chains share their outer steps (and texts parsed once) are resolved and checked with
what was worked out for the shared part; every finding must still point at its own file and line."""

from __future__ import annotations

import json

import pytest

from aoai_audit import analysis
from aoai_audit.resolve import effective
from conftest import audit

API_POLICY = """<policies>
    <inbound>
        <base />
        <set-backend-service base-url="https://contoso.openai.azure.com/openai" />
        <llm-emit-token-metric namespace="llm">
            <dimension name="Team" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team&quot;, &quot;none&quot;))" />
        </llm-emit-token-metric>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""
TEAM_DIMENSION_LINE = 6
OPERATION_POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <log-to-eventhub logger-id="{hub}">@(context.Response.Body.As<JObject>(preserveContent: true)["usage"].ToString())</log-to-eventhub>
    </outbound>
    <on-error><base /></on-error>
</policies>
"""
USAGE_READ_LINE = 6
APIS, OPERATIONS = ("chat-a", "chat-b"), ("ChatCompletions_Create", "Completions_Create")


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def estate(tmp_path):
    """Two LLM APIs in one product with the same policy texts: each API's operations share its outer scopes, and
    the same operation of both APIs has the same text (parsed once)."""
    svc = tmp_path / "svc"
    _write(svc / "policy.xml", "<policies><inbound /><backend><forward-request /></backend><outbound /><on-error />"
                               "</policies>\n")
    for api in APIS:
        _write(svc / "apis" / api / "apiInformation.json",
               json.dumps({"properties": {"displayName": api, "path": api, "subscriptionRequired": True}}))
        _write(svc / "apis" / api / "policy.xml", API_POLICY)
        for op in OPERATIONS:
            # one ST001 per API, logger and key (its fingerprint): each operation logs to a hub of its own
            _write(svc / "apis" / api / "operations" / op / "policy.xml", OPERATION_POLICY.replace("{hub}", op))
    _write(svc / "products" / "team" / "productInformation.json",
           json.dumps({"properties": {"displayName": "team", "subscriptionRequired": True}}))
    _write(svc / "products" / "team" / "apis.json", json.dumps([{"name": a} for a in APIS]))
    return svc


def _places(result, rule):
    return sorted((f.location.path.replace("\\", "/").split("/svc/", 1)[-1], f.location.line)
                  for f in result.findings if f.rule_id == rule)


def test_each_operation_gets_its_finding_at_its_own_file_and_line(estate, registry):
    result = audit(str(estate), registry, only=("ST001", "TM003"))
    assert _places(result, "ST001") == sorted(
        (f"apis/{api}/operations/{op}/policy.xml", USAGE_READ_LINE) for api in APIS for op in OPERATIONS)
    assert _places(result, "TM003") == [(f"apis/{api}/policy.xml", TEAM_DIMENSION_LINE) for api in APIS]


def test_remembering_shared_work_changes_no_finding(estate, registry, monkeypatch):
    remembered = audit(str(estate), registry)
    monkeypatch.setattr(effective, "REMEMBER", False)
    monkeypatch.setattr(analysis, "REMEMBER", False)
    afresh = audit(str(estate), registry)
    assert len(remembered.findings) > len(APIS) * len(OPERATIONS)
    assert remembered.findings == afresh.findings
