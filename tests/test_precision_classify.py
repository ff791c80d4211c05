"""Non-LLM AI services are not LLM APIs (issue 24, item 1): an audience or a host family never decides, the
endpoint the gateway forwards to and the account's kind do, and the verdict says which service it is.

Real files: tests/fixtures/precision/public (sources in SOURCES.md). Constructed estate: the paths and kinds of
the Microsoft pages cited in aoai_audit/resolve/ai_services.py.
"""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import AiAccount, Api, ApimService, Estate, Operation, SourceInfo
from aoai_audit.sources.detect import load_paths
from conftest import ROOT

PUBLIC = ROOT / "tests" / "fixtures" / "precision" / "public"
NOT_LLM = {
    "ai-hub-gateway/translator-api-policy.xml": "Azure AI Translator",
    "ai-hub-gateway/doc-intelligence-api-policy.xml": None,
    "ai-gateway/ai-foundry-toolbox__toolbox-policy.xml": "an MCP server",
    "ai-gateway/content-filtering__contentsafety-policy.xml": None,
}


@pytest.mark.parametrize("rel", sorted(NOT_LLM))
def test_public_non_llm_policy_is_not_an_llm_api(rel, registry):
    result = run_audit(load_paths([str(PUBLIC / rel)]), registry, Settings())
    (view,) = result.ctx.apis
    assert not view.verdict.is_llm, view.verdict.reasons
    service = NOT_LLM[rel]
    if service:
        assert view.verdict.reasons[0] == f"calls {service}, not model inference"
    assert any("does not decide" in r for r in view.verdict.reasons), "the audience is named, and why it is not enough"
    fired = {f.rule_id for f in result.findings}
    assert not fired & {"TM001", "HD001", "ST002", "TM002"}, fired


RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
ACCOUNTS = (
    AiAccount(RID + "hub", "hub", "AIServices", endpoint="https://hub.cognitiveservices.azure.com/"),
    AiAccount(RID + "speech", "speech", "SpeechServices", endpoint="https://speech.cognitiveservices.azure.com/"),
    AiAccount(RID + "oai", "oai", "OpenAI", endpoint="https://oai.openai.azure.com/"),
)


def _api(name: str, url: str, *ops: tuple[str, str], api_type: str = "http") -> Api:
    return Api(name, name, name, url, api_type=api_type, subscription_required=True,
               operations=tuple(Operation(f"op{i}", m, t) for i, (m, t) in enumerate(ops)))


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        (_api("safety", "https://hub.cognitiveservices.azure.com", ("POST", "/contentsafety/text:analyze")),
         "Azure AI Content Safety"),
        (_api("translate", "https://hub.cognitiveservices.azure.com/translator/text/v3.0", ("POST", "/translate")),
         "Azure AI Translator"),
        (_api("docs", "https://hub.cognitiveservices.azure.com/documentintelligence",
              ("POST", "/documentModels/{modelId}:analyze")), "Azure AI Document Intelligence"),
        (_api("stt", "https://speech.cognitiveservices.azure.com/", ("POST", "/transcriptions:transcribe")),
         "Azure AI Speech"),
        (_api("vision", "https://hub.cognitiveservices.azure.com/computervision", ("POST", "/imageanalysis:analyze")),
         "Azure AI Vision"),
        (_api("language", "https://hub.cognitiveservices.azure.com", ("POST", "/language/:analyze-text")),
         "Azure AI Language"),
        (_api("agents", "https://hub.services.ai.azure.com/api/projects/p", ("POST", "/agents/{id}/runs")),
         "an Azure AI Foundry agent endpoint"),
        (_api("tools", "https://hub.services.ai.azure.com/mcp", api_type="mcp"), "an MCP server"),
    ],
    ids=lambda v: v.name if isinstance(v, Api) else "",
)
def test_non_llm_service_on_a_shared_account(api, expected, registry):
    chat = _api("chat", "https://hub.cognitiveservices.azure.com/openai",
                ("POST", "/deployments/{d}/chat/completions"), ("GET", "/models"))
    service = ApimService("gw", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw",
                          apis=(chat, api))
    estate = Estate(sources=(SourceInfo("arm", "t.json", frozenset({"apis", "policies", "ai-accounts"})),),
                    services=(service,), accounts=ACCOUNTS)
    result = run_audit(estate, registry, Settings())
    verdicts = {v.api.name: v.verdict for v in result.ctx.apis}
    assert verdicts["chat"].is_llm and "/openai is a model-inference path" in verdicts["chat"].reasons[0]
    assert not verdicts[api.name].is_llm, verdicts[api.name].reasons
    assert verdicts[api.name].reasons[0] == f"calls {expected}, not model inference"
    assert verdicts[api.name].services and "learn.microsoft.com" in verdicts[api.name].services[0]
    assert not [f for f in result.findings if f.resource.endswith(f"/apis/{api.name}")]
