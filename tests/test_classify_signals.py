"""Every signal the estate carries makes an API an LLM API, and the verdict says which one.

Backends are referred to by name (APIOps), by full resource id (ARM, live, Terraform) or through a pool;
base URLs are literals, expressions, or named values; the backend can be a declared account's endpoint.
"""

from __future__ import annotations

import pytest

from aoai_audit.estate import AiAccount, Api, ApimService, Backend, NamedValue
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.classify import classify
from aoai_audit.sources.detect import load_paths
from conftest import ROOT

GW = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw"


def _api(inbound: str, service_url: str = "") -> Api:
    xml = f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend><outbound><base /></outbound></policies>"
    return Api("chat", "Chat", "chat", service_url, policy=read_policy(xml, scope="api", label="api 'chat'"))


def _service(*backends: Backend, named: tuple[NamedValue, ...] = ()) -> ApimService:
    return ApimService("gw", GW, backends=backends, named_values=named)


POOL = (
    Backend("aoai-0", "https://contoso-0.openai.azure.com/openai"),
    Backend("aoai-1", "https://contoso-1.services.ai.azure.com/models"),
    Backend("pool", "", "pool", (f"{GW}/backends/aoai-0", "/backends/aoai-1")),  # live/ARM ids and APIOps paths
)


@pytest.mark.parametrize(
    ("service", "api", "accounts", "why"),
    [
        (_service(*POOL), _api('<set-backend-service backend-id="pool" />'), (),
         "pool 'pool' member backend 'aoai-0': contoso-0.openai.azure.com is an Azure OpenAI endpoint"),
        (_service(*POOL), _api('<set-backend-service backend-id="@(context.Request.Headers.GetValueOrDefault("x-r","") == "eu" ? "aoai-1" : "other")" />'),
         (), "backend 'aoai-1': contoso-1.services.ai.azure.com is an Azure AI Foundry host and /models is a model-inference path"),
        (_service(), _api('<set-backend-service base-url="@(context.Variables.GetValueOrDefault<string>("r") == "us" ? "https://a-us.openai.azure.com/openai" : "https://a-eu.openai.azure.com/openai")" />'),
         (), 'expression literal "https://a-us.openai.azure.com/openai"'),
        (_service(), _api('<set-variable name="urls" value="@(new [] {"https://x.openai.azure.com/"})" />'
                          '<set-variable name="pick" value="@(((string[])context.Variables["urls"])[0])" />'
                          '<set-backend-service base-url="@((string)context.Variables["pick"])" />'),
         (), "chosen from variables set in the policy"),
        (_service(named=(NamedValue.read("aoai-endpoint", "aoai-endpoint", False, False, "https://nv.openai.azure.com/"),)),
         _api('<set-backend-service base-url="{{aoai-endpoint}}openai" />'), (), "(named value {{aoai-endpoint}}openai)"),
        (_service(), _api("", "https://acct.cognitiveservices.azure.com/openai"),
         (AiAccount("/subscriptions/s/rg/acct", "acct", "AIServices", endpoint="https://acct.cognitiveservices.azure.com/"),),
         "endpoint of account 'acct' (kind AIServices)"),
        (_service(), _api('<rewrite-uri template="/openai/deployments/gpt-4o/chat/completions" />'), (),
         "forwards to /openai/deployments/gpt-4o/chat/completions, a model-inference path"),
        (_service(), _api("", "https://acct.openai.azure.com/"),
         (AiAccount("/subscriptions/s/rg/acct", "acct", "OpenAI", endpoint="https://acct.openai.azure.com/"),),
         "endpoint of account 'acct' (kind OpenAI)"),
    ],
    ids=["pool-members", "backend-id-expression", "base-url-expression", "variables", "named-value", "declared-account",
         "rewrite-uri", "openai-account"],
)
def test_llm_signal_and_its_reason(service, api, accounts, why):
    verdict = classify(service, api, accounts=accounts)
    assert verdict.is_llm, verdict.reasons
    assert any(why in r for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("service", "api", "accounts"),
    [
        (_service(Backend("crm", "https://crm.contoso.com"), Backend("pool", "", "pool", (f"{GW}/backends/crm",))),
         _api('<set-backend-service backend-id="pool" />'), ()),
        (_service(), _api('<set-backend-service base-url="@("https://api.contoso.com/" + context.Api.Path)" />'), ()),
        # a secret named value is never read, so it says nothing
        (_service(named=(NamedValue.read("endpoint", "endpoint", True, False, "https://s.openai.azure.com/"),)),
         _api('<set-backend-service base-url="{{endpoint}}" />'), ()),
        # a declared account that is not an LLM account
        (_service(), _api("", "https://speech.cognitiveservices.azure.com/"),
         (AiAccount("/subscriptions/s/rg/speech", "speech", "SpeechServices", endpoint="https://speech.cognitiveservices.azure.com/"),)),
        (_service(), _api('<authentication-managed-identity resource="https://storage.azure.com/" />'), ()),
        # an audience every Azure AI service accepts, or a host family alone, never makes one (RULES.md "LLM API")
        (_service(), _api('<authentication-managed-identity resource="https://cognitiveservices.azure.com/" />'), ()),
        (_service(), _api('<authentication-managed-identity resource="https://ai.azure.com" />'), ()),
        (_service(), _api("", "https://acct.cognitiveservices.azure.com/"), ()),
        (_service(Backend("b", "https://acct.services.ai.azure.com/")), _api('<set-backend-service backend-id="b" />'), ()),
        # an AIServices account is multi-service: without an inference path it is not known to be LLM
        (_service(), _api("", "https://acct.cognitiveservices.azure.com/"),
         (AiAccount("/subscriptions/s/rg/acct", "acct", "AIServices", endpoint="https://acct.cognitiveservices.azure.com/"),)),
    ],
    ids=["pool-of-crm", "non-llm-literal", "secret-named-value", "speech-account", "storage-audience",
         "cognitiveservices-audience", "ai-azure-audience", "ai-services-host", "foundry-host", "aiservices-account-no-path"],
)
def test_no_llm_signal(service, api, accounts):
    verdict = classify(service, api, accounts=accounts)
    assert not verdict.is_llm, verdict.reasons


def test_terraform_azapi_pool_classifies_the_api():
    estate = load_paths([str(ROOT / "tests/fixtures/terraform/azapi-pool.json")])
    (svc,) = estate.services
    pool = next(b for b in svc.backends if b.name == "aoai-pool")
    assert pool.backend_type == "pool" and len(pool.pool_members) == 2
    assert next(b for b in svc.backends if b.name == "aoai-1").url.endswith(".cognitiveservices.azure.com/openai")  # body as JSON text
    verdict = classify(svc, svc.apis[0], accounts=estate.accounts)
    assert verdict.is_llm and "pool 'aoai-pool' member backend 'aoai-0'" in verdict.reasons[0]


def test_api_whose_backend_only_a_policy_the_estate_lacks_picks():
    """A linked (unread) policy routes the API; when every backend of the service is an LLM endpoint, so is its."""
    bare = Api("linked", "Linked")  # no service URL, no policy the estate holds
    llm = _service(Backend("a", "https://a.openai.azure.com/openai"), Backend("b", "https://b.openai.azure.com/openai"))
    verdict = classify(llm, bare)
    assert verdict.is_llm and "every backend of the service is an LLM endpoint (a, b)" in verdict.reasons[0]
    mixed = _service(Backend("a", "https://a.openai.azure.com/openai"), Backend("crm", "https://crm.contoso.com"))
    assert not classify(mixed, bare).is_llm
    assert not classify(llm, Api("other", service_url="https://crm.contoso.com")).is_llm
