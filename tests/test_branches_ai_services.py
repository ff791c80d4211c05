"""LLM API or non-LLM AI service, branch by branch (issue 29): each service's path or host, each account kind,
and the place the verdict came from (backend URL, forwarded path, operations or spec, API type).

Expected texts are written here from RULES.md ("LLM API") and the Microsoft pages cited in
aoai_audit/resolve/ai_services.py, never read back from the classifier.
"""

from __future__ import annotations

import pytest

from aoai_audit.estate import AiAccount, Api, ApimService, Backend, Operation
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.ai_services import service_of
from aoai_audit.resolve.classify import classify

GW = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw"
RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("/contentsafety/text:analyze", "Azure AI Content Safety"),
        ("/text:shieldPrompt", "Azure AI Content Safety"),
        ("/image:analyze", "Azure AI Content Safety"),
        ("/translator/text/v3.0/translate", "Azure AI Translator"),
        ("/translator/document/batches", "Azure AI Translator"),
        ("https://api.cognitive.microsofttranslator.com/translate", "Azure AI Translator"),
        ("/documentintelligence/documentModels/prebuilt-read:analyze", "Azure AI Document Intelligence"),
        ("/formrecognizer/v2.1/layout/analyze", "Azure AI Document Intelligence"),
        ("https://westeurope.stt.speech.microsoft.com/speech/recognition", "Azure AI Speech"),
        ("https://westeurope.tts.speech.microsoft.com/synthesize", "Azure AI Speech"),
        ("/speechtotext/transcriptions:transcribe", "Azure AI Speech"),
        ("/cognitiveservices/v1", "Azure AI Speech"),
        ("/sts/v1.0/issueToken", "Azure AI Speech"),
        ("/computervision/imageanalysis:analyze", "Azure AI Vision"),
        ("/face/v1.0/detect", "Azure AI Vision"),
        ("/language/:analyze-text", "Azure AI Language"),
        ("/text/analytics/v3.1/sentiment", "Azure AI Language"),
        ("https://s.search.windows.net/docs", "Azure AI Search"),
        ("/indexes/hotels/docs", "Azure AI Search"),
        ("/api/projects/p1/threads", "an Azure AI Foundry agent endpoint"),
        ("/api/projects/p1", "an Azure AI Foundry agent endpoint"),
        ("/mcp", "an MCP server"),
        ("/toolboxes/t1", "an MCP server"),
    ],
)
def test_each_non_llm_service_is_named_by_its_path_or_host(text, service):
    found = service_of(text)
    assert found is not None and found.name == service
    assert found.source.startswith("https://learn.microsoft.com/")


@pytest.mark.parametrize("text", ["", "/openai/deployments/gpt-4o/chat/completions", "/models/chat/completions",
                                  "/mycontentsafety/x", "/translatorx/text/", "/speechtotextual", "/mcpx"])
def test_model_inference_and_lookalike_paths_name_no_service(text):
    assert service_of(text) is None


def _service(*backends: Backend) -> ApimService:
    return ApimService("gw", GW, backends=backends)


def _api(service_url: str = "", inbound: str = "", ops: tuple[str, ...] = (), spec: tuple[str, ...] = (),
         api_type: str = "http", name: str = "api") -> Api:
    policy = None
    if inbound:
        xml = f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend></policies>"
        policy = read_policy(xml, scope="api", label=f"api '{name}'")
    return Api(name, name, name, service_url, api_type=api_type, policy=policy,
               operations=tuple(Operation(f"op{i}", "POST", t) for i, t in enumerate(ops)), spec_paths=spec)


def _account(kind: str, name: str = "acct") -> AiAccount:
    return AiAccount(RID + name, name, kind, endpoint=f"https://{name}.cognitiveservices.azure.com/")


# ---- account kinds: OpenAI decides for, a single-service kind against, a multi-service kind leaves it to the path
@pytest.mark.parametrize(
    ("kind", "service"),
    [("TextTranslation", "Azure AI Translator"), ("ContentSafety", "Azure AI Content Safety"),
     ("SpeechServices", "Azure AI Speech"), ("FormRecognizer", "Azure AI Document Intelligence"),
     ("ComputerVision", "Azure AI Vision"), ("Face", "Azure AI Vision"), ("CustomVision.Training", "Azure AI Vision"),
     ("CustomVision.Prediction", "Azure AI Vision"), ("TextAnalytics", "Azure AI Language"),
     ("Language", "Azure AI Language"), ("ImmersiveReader", "Azure AI Immersive Reader")],
)
def test_a_single_service_kind_is_not_an_llm_api_even_on_an_inference_path(kind, service):
    verdict = classify(_service(), _api("https://acct.cognitiveservices.azure.com/openai/deployments/d"),
                       accounts=(_account(kind),))
    assert not verdict.is_llm
    assert verdict.reasons[0] == f"calls {service}, not model inference"
    assert verdict.services == (f"{service}: account 'acct' is of kind {kind} "
                                "(https://learn.microsoft.com/azure/ai-services/create-account-bicep)",)


def test_an_openai_kind_decides_whatever_the_path():
    verdict = classify(_service(), _api("https://acct.cognitiveservices.azure.com/"), accounts=(_account("OpenAI"),))
    assert verdict.is_llm
    assert verdict.reasons == ("service URL: acct.cognitiveservices.azure.com is the endpoint of account 'acct' "
                               "(kind OpenAI)",)


@pytest.mark.parametrize("kind", ["AIServices", "CognitiveServices"])
def test_a_multi_service_kind_is_an_llm_api_only_on_an_inference_path(kind):
    llm = classify(_service(), _api("https://acct.cognitiveservices.azure.com/models"), accounts=(_account(kind),))
    assert llm.is_llm
    assert llm.reasons == (f"service URL: acct.cognitiveservices.azure.com is the endpoint of account 'acct' "
                           f"(kind {kind}) and /models is a model-inference path",)
    other = classify(_service(), _api("https://acct.cognitiveservices.azure.com/"), accounts=(_account(kind),))
    assert not other.is_llm
    assert other.reasons == ("no LLM backend, policy or operation found",
                             f"acct.cognitiveservices.azure.com is the endpoint of account 'acct' (kind {kind}), "
                             "which serves non-LLM AI services too; the path (/) does not say it is model inference")


@pytest.mark.parametrize(("kind", "shown"), [("", "unknown"), ("{parameters('kind')}", "{parameters('kind')}")])
def test_an_unknown_or_unresolved_kind_leaves_a_note_and_decides_nothing(kind, shown):
    verdict = classify(_service(), _api("https://acct.cognitiveservices.azure.com/x"), accounts=(_account(kind),))
    assert not verdict.is_llm
    assert verdict.reasons[1] == (f"acct.cognitiveservices.azure.com is the endpoint of account 'acct' (kind {shown}), "
                                  "which serves non-LLM AI services too; the path (/x) does not say it is model "
                                  "inference")


def test_another_kind_on_a_non_inference_path_leaves_no_note():
    verdict = classify(_service(), _api("https://acct.cognitiveservices.azure.com/x"),
                       accounts=(_account("Bing.Search.v7"),))
    assert verdict.reasons == ("no LLM backend, policy or operation found",)


# ---- hosts: one that serves only model inference decides; a shared Azure AI host needs an inference path
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://Contoso.OpenAI.Azure.com", "Contoso.OpenAI.Azure.com is an Azure OpenAI endpoint"),
        ("https://gov.openai.azure.us/", "gov.openai.azure.us is an Azure OpenAI endpoint"),
        ("https://x.inference.ai.azure.com", "x.inference.ai.azure.com is an Azure AI model inference endpoint"),
        ("https://x.models.ai.azure.cn", "x.models.ai.azure.cn is an Azure AI model inference endpoint"),
        ("https://api.openai.com/v1", "api.openai.com is the OpenAI API"),
        ("https://api.anthropic.com", "api.anthropic.com is the Anthropic API"),
        ("https://generativelanguage.googleapis.com", "generativelanguage.googleapis.com is the Google Gemini API"),
        ("https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime.us-east-1.amazonaws.com is AWS Bedrock"),
        ("https://api.mistral.ai/v1", "api.mistral.ai is an OpenAI-compatible API"),
        ("https://api.groq.com", "api.groq.com is an OpenAI-compatible API"),
        ("https://hub.cognitiveservices.azure.com/openai",
         "hub.cognitiveservices.azure.com is an Azure AI Services host and /openai is a model-inference path"),
        ("https://hub.services.ai.azure.com/models",
         "hub.services.ai.azure.com is an Azure AI Foundry host and /models is a model-inference path"),
        ("https://westeurope.api.cognitive.microsoft.com/openai/v1",
         "westeurope.api.cognitive.microsoft.com is an Azure AI Services host and /openai/v1 is a model-inference path"),
        ("https://proxy.example.com/llm/openai/", "https://proxy.example.com/llm/openai/ ends in /openai "
                                                  "(Azure OpenAI-style path)"),
        ("https://proxy.example.com/v1/chat/completions",
         "https://proxy.example.com/v1/chat/completions is an OpenAI-style inference path"),
    ],
)
def test_the_service_url_host_or_path_decides_and_is_named(url, why):
    verdict = classify(_service(), _api(url))
    assert verdict.is_llm and verdict.reasons == (f"service URL: {why}",)


@pytest.mark.parametrize("url", ["https://api.mistral.ai.evil.example/", "https://xapi.openai.com/",
                                 "https://openai.azure.com.example.net/", "https://proxy.example.com/openai-docs"])
def test_lookalike_hosts_and_paths_decide_nothing(url):
    assert classify(_service(), _api(url)).reasons == ("no LLM backend, policy or operation found",)


@pytest.mark.parametrize(("url", "path"), [("https://hub.cognitiveservices.azure.com", "/"),
                                           ("https://hub.services.ai.azure.com/api/x", "/api/x")])
def test_a_shared_ai_host_without_an_inference_path_is_a_note(url, path):
    verdict = classify(_service(), _api(url))
    host = url.split("//")[1].split("/")[0]
    family = "an Azure AI Foundry host" if "services.ai" in host else "an Azure AI Services host"
    assert verdict.reasons == ("no LLM backend, policy or operation found",
                               f"{host} is {family}, which serves non-LLM AI services too, and its path ({path}) "
                               "is not model inference: the host alone does not decide")


# ---- where the call goes: a backend's URL, a forwarded path, the operations, the spec, the API type
def test_a_backend_url_names_the_service_it_calls():
    service = _service(Backend("tr", "https://api.cognitive.microsofttranslator.com/"))
    verdict = classify(service, _api(inbound='<set-backend-service backend-id="tr" />'))
    assert not verdict.is_llm
    assert verdict.reasons[0] == "calls Azure AI Translator, not model inference"
    assert verdict.services[0].startswith("Azure AI Translator: URL https://api.cognitive.microsofttranslator.com/")


def test_a_backend_url_on_an_llm_host_decides():
    service = _service(Backend("aoai", "https://c.openai.azure.com/openai"))
    verdict = classify(service, _api(inbound='<set-backend-service backend-id="aoai" />'))
    assert verdict.reasons == ("set-backend-service backend-id (line 1): backend 'aoai': c.openai.azure.com is an "
                               "Azure OpenAI endpoint",)


def test_a_forwarded_path_to_a_non_llm_service_is_named_with_its_line():
    verdict = classify(_service(), _api("https://hub.cognitiveservices.azure.com",
                                        inbound='<rewrite-uri template="/contentsafety/text:analyze" />'))
    assert not verdict.is_llm and verdict.reasons[0] == "calls Azure AI Content Safety, not model inference"
    assert verdict.services[0].startswith("Azure AI Content Safety: rewrite-uri (line 1) forwards to "
                                          "/contentsafety/text:analyze (https://learn.microsoft.com/")


def test_a_forwarded_inference_path_decides_only_when_it_is_a_path():
    llm = classify(_service(), _api(inbound='<rewrite-uri template="/deployments/d/embeddings?x=1" />'))
    assert llm.reasons == ("rewrite-uri (line 1) forwards to /deployments/d/embeddings?x=1, a model-inference path",)
    relative = classify(_service(), _api(inbound='<rewrite-uri template="deployments/d/embeddings" />'))
    assert not relative.is_llm


@pytest.mark.parametrize(
    ("ops", "spec", "why"),
    [
        (("/chat/completions",), (), "OpenAI-style operations: /chat/completions"),
        ((), ("/deployments/{d}/embeddings",), "OpenAI-style operations: /deployments/{d}/embeddings"),
        (("/responses", "/embeddings"), ("/completions", "/chat/completions"),
         "OpenAI-style operations: /chat/completions, /completions, /embeddings …"),
    ],
)
def test_operations_or_the_spec_decide_and_at_most_three_are_shown(ops, spec, why):
    verdict = classify(_service(), _api(ops=ops, spec=spec))
    assert verdict.is_llm and verdict.reasons == (why,)


def test_operations_of_a_non_llm_service_name_it():
    verdict = classify(_service(), _api(ops=("/speechtotext/transcriptions:transcribe",)))
    assert verdict.reasons[0] == "calls Azure AI Speech, not model inference"
    assert verdict.services[0].startswith("Azure AI Speech: operation /speechtotext/transcriptions:transcribe (")


@pytest.mark.parametrize("api_type", ["openai", "AzureOpenAI", "llm"])
def test_an_llm_api_type_decides(api_type):
    assert classify(_service(), _api(api_type=api_type)).reasons == (f"API type is '{api_type}'",)


@pytest.mark.parametrize(("api_type", "what"), [("mcp", "an MCP server"), ("A2A", "an A2A agent")])
def test_an_mcp_or_a2a_api_type_is_named_as_not_llm(api_type, what):
    verdict = classify(_service(), _api(api_type=api_type))
    assert not verdict.is_llm and verdict.reasons[0] == f"calls {what}, not model inference"
    assert verdict.services == (f"{what}: API type is '{api_type}' "
                                "(https://learn.microsoft.com/azure/api-management/mcp-server-overview)",)


def test_the_toolbox_header_names_an_mcp_server_and_another_header_does_not():
    toolbox = classify(_service(), _api(inbound='<set-header name="Foundry-Features" exists-action="override">'
                                                '<value>Toolboxes=V1Preview</value></set-header>'))
    assert toolbox.reasons[0] == "calls an MCP server, not model inference"
    assert "Foundry-Features header asks for Toolboxes=V1Preview (line 1)" in toolbox.services[0]
    other = classify(_service(), _api(inbound='<set-header name="Foundry-Features" exists-action="override">'
                                              '<value>Agents=V1</value></set-header>'))
    assert other.services == ()


@pytest.mark.parametrize("audience", ["https://cognitiveservices.azure.com", "https://ai.azure.com/"])
def test_an_ai_audience_is_a_note_never_a_reason(audience):
    verdict = classify(_service(), _api(inbound=f'<authentication-managed-identity resource="{audience}" />'))
    assert not verdict.is_llm
    assert verdict.reasons[1] == (f"a managed-identity token for {audience.rstrip('/')} (line 1) is accepted by every "
                                  "Azure AI service: the audience alone does not decide")


def test_configuration_overrides_either_way_and_keeps_the_reasons():
    llm = _api("https://c.openai.azure.com", name="chat")
    excluded = classify(_service(), llm, exclude=("gw/chat",))
    assert (excluded.is_llm, excluded.overridden) == (False, True)
    assert excluded.reasons == ("excluded by configuration (llm_apis.exclude)",
                                "service URL: c.openai.azure.com is an Azure OpenAI endpoint")
    included = classify(_service(), _api("https://example.com", name="tool"), include=("to*",))
    assert (included.is_llm, included.overridden) == (True, True)
    assert included.reasons == ("included by configuration (llm_apis.include)",)


# ---- which accounts an API's calls reach (resolve/backends.py) ---------------------------------------------------------
def test_a_policy_backend_replaces_the_service_url_and_is_found_after_other_statements():
    from aoai_audit.config import Settings
    from aoai_audit.context import build_context
    from aoai_audit.estate import Estate, SourceInfo
    from aoai_audit.resolve.backends import api_accounts

    a, b = _account("OpenAI", "acc-a"), _account("OpenAI", "acc-b")
    service = ApimService("gw", GW, backends=(Backend("to-b", "https://acc-b.cognitiveservices.azure.com/openai"),),
                          apis=(_api("https://acc-a.cognitiveservices.azure.com/openai", name="routed",
                                     inbound='<set-header name="x" exists-action="override"><value>1</value></set-header>'
                                            '<set-backend-service backend-id="to-b" />'),
                                _api("https://acc-a.cognitiveservices.azure.com/openai", name="direct")))
    source = SourceInfo("apiops", "x/", frozenset({"apis", "policies"}))
    ctx = build_context(Estate(sources=(source,), services=(service,), accounts=(a, b)), Settings())
    reach = {v.api.name: api_accounts(v, (a, b)) for v in ctx.apis}
    assert reach == {"routed": frozenset({(RID + "acc-b").lower()}), "direct": frozenset({(RID + "acc-a").lower()})}
