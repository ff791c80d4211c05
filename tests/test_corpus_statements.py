"""Real public files of the corpus (sources and licences: tests/fixtures/corpus/SOURCES.md), each scanned on its
own as the pre-commit hook does, labelled by reading them against RULES.md before running the tool."""

from __future__ import annotations

import pytest

from conftest import CORPUS, audit

P = CORPUS / "policies"

# file → {rule: lines it must report}; a rule absent from the dict must not fire (of ST001, TM006, AU003)
LABELS = {
    # Azure/apim-landing-zone-accelerator (MIT): a fragment that logs
    # `Body.As<JObject>(preserveContent: true).SelectToken("usage.total_tokens")` under a status-code check only
    "apim-lza__scenarios__workload-genai__policies__fragments__usage-tracking__usage-tracking-with-eventhub.xml":
        {"ST001": [8]},
    # Azure-Samples/ai-hub-gateway-solution-accelerator (MIT): the same parse, kept in a set-variable, but only
    # when the request's isStream flag is false
    "ai-hub-gateway__infra__modules__apim__policies__frag-openai-usage.xml": {},
    # same repository: six <dimension> elements on one token metric (SubscriptionId among them)
    "ai-hub-gateway__infra__modules__apim__policies__frag-openai-usage-streaming.xml": {"TM006": [53]},
    # microsoft/AzureOpenAI-with-APIM (MIT): nine dimensions, four of them default-named
    "aoai-with-apim__apim_policies__AOAI_Policy-Token_Tracking_End_User_Context.xml": {"TM006": [143]},
}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_real_file_on_its_own(name, registry):
    result = audit(str(P / name), registry, only=("ST001", "TM006", "AU003"))
    got: dict[str, list] = {}
    for f in result.findings:
        got.setdefault(f.rule_id, []).append(f.location.line)
    assert got == LABELS[name]
