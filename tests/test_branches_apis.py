"""Rules judged per API in an APIOps tree, branch by branch: the API is named by its display name (issue 29)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.model import UsageData, UsageRow
from conftest import audit

METRIC = '<llm-emit-token-metric><dimension name="Subscription ID" /></llm-emit-token-metric>'
BACKEND = '<set-backend-service base-url="https://contoso.openai.azure.com/openai" />'


def apiops(root: Path, api_inbound: str, *, subscription_required: bool = True) -> Path:
    """Service 'apim' with API 'chat' (display name 'Chat Completions')."""
    api = root / "apim" / "apis" / "chat"
    api.mkdir(parents=True)
    (api / "apiInformation.json").write_text(json.dumps({"properties": {
        "displayName": "Chat Completions", "path": "chat", "serviceUrl": "https://contoso.openai.azure.com/openai",
        "subscriptionRequired": subscription_required}}))
    (api / "policy.xml").write_text(f"<policies><inbound><base />{BACKEND}{api_inbound}</inbound><backend><base />"
                                    "</backend><outbound><base /></outbound><on-error><base /></on-error></policies>")
    return root / "apim"


def findings(path, registry, rule_id, **settings):
    result = audit(str(path), registry, only=(rule_id,), **settings)
    assert result.ctx.llm_apis and rule_id not in {n.rule.id for n in result.not_evaluated}
    return [f for f in result.findings if f.rule_id == rule_id]


def test_hd002_anonymous_api_is_named_by_its_display_name(tmp_path, registry):
    (f,) = findings(apiops(tmp_path, METRIC, subscription_required=False), registry, "HD002")
    assert f.resource == "service/apim/apis/chat" and f.message.startswith("LLM API 'Chat Completions': ")
    assert "for its calls" in f.message


@pytest.mark.parametrize("check", [
    '<validate-jwt header-name="Authorization"><openid-config url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration" /></validate-jwt>',
    '<validate-azure-ad-token tenant-id="t" />',
])
def test_hd002_a_validated_token_identifies_the_caller(tmp_path, registry, check):
    assert findings(apiops(tmp_path, check + METRIC, subscription_required=False), registry, "HD002") == []


def test_hd002_a_required_subscription_identifies_the_caller(tmp_path, registry):
    assert findings(apiops(tmp_path, METRIC, subscription_required=True), registry, "HD002") == []


def test_st002_streamed_share_counts_rows_named_by_display_name_or_id(tmp_path, registry):
    day = dt.date(2026, 11, 1)
    rows = (UsageRow(day, consumer="a", api="chat", total_tokens=600, streamed_tokens=600),
            UsageRow(day, consumer="b", api="Chat Completions", total_tokens=400, streamed_tokens=0))
    estate = replace(load_paths([str(apiops(tmp_path, METRIC))]),
                     usage=UsageData(rows=rows, window=(day, day), origin="u.csv"))
    (f,) = [f for f in run_audit(estate, registry, Settings(only=("ST002",))).findings if f.rule_id == "ST002"]
    assert "(600 of its 1,000 gateway tokens in the window, 60.0%, were streamed)" in f.message


def test_sec001_numbers_literal_secrets_of_one_kind_in_order(tmp_path, registry):
    key = '<set-header name="api-key" exists-action="override"><value>{}</value></set-header>'
    path = tmp_path / "chat.policy.xml"
    path.write_text(f"<policies><inbound><base />{BACKEND}\n{key.format('0123456789abcdef0123456789abcdef')}\n"
                    f"{key.format('fedcba9876543210fedcba9876543210')}\n</inbound></policies>")
    found = findings(path, registry, "SEC001")
    assert [(f.location.line, f.key.rsplit("#", 1)[1]) for f in found] == [(2, "1"), (3, "2")]
    assert len({f.key.rsplit("#", 1)[0] for f in found}) == 1
    assert all("0123456789abcdef" not in " ".join(f.evidence) + f.message for f in found)
