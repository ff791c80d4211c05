"""LLM or not at the edges of a URL (issue 29): each OpenAI-compatible host, a path that only looks like `/openai`,
a forwarded path whose query names an inference path, an account reached with no path at all.

Expected reasons are written here from RULES.md ("LLM API"), never read back from the classifier.
"""

from __future__ import annotations

import pytest
from test_branches_ai_services import GW, _account, _api, _service

from aoai_audit.estate import ApimService, Backend
from aoai_audit.resolve.classify import classify


@pytest.mark.parametrize("host", ["api.deepseek.com", "api.together.xyz", "api.mistral.ai", "api.groq.com"])
def test_each_openai_compatible_host_decides_as_a_service_url_and_as_a_backend(host):
    assert classify(_service(), _api(f"https://{host}/v1")).reasons == (
        f"service URL: {host} is an OpenAI-compatible API",)
    service = ApimService("gw", GW, backends=(Backend("llm", url=f"https://{host}"),))
    verdict = classify(service, _api(inbound='<set-backend-service backend-id="llm" />'))
    assert verdict.is_llm
    assert verdict.reasons == (f"set-backend-service backend-id (line 1): backend 'llm': {host} is an "
                               "OpenAI-compatible API",)


@pytest.mark.parametrize("url", ["https://proxy.example.com/llm/OpenAI//", "https://proxy.example.com/openai"])
def test_a_path_ending_in_openai_decides_in_any_case_and_with_trailing_slashes(url):
    assert classify(_service(), _api(url)).reasons == (f"service URL: {url} ends in /openai (Azure OpenAI-style path)",)


@pytest.mark.parametrize("url", ["https://proxy.example.com/openaiX", "https://proxy.example.com/openai/X",
                                 "https://proxy.example.com/openai/XX/"])
def test_a_path_that_goes_on_past_openai_does_not_end_in_it(url):
    verdict = classify(_service(), _api(url))
    assert not verdict.is_llm and verdict.reasons == ("no LLM backend, policy or operation found",)


def test_a_forwarded_path_is_judged_without_its_query():
    inference = classify(_service(), _api(inbound='<rewrite-uri template="/openai/deployments/gpt-4o/chat/completions'
                                                  '?api-version=2024-10-21" />'))
    assert inference.reasons == ("rewrite-uri (line 1) forwards to /openai/deployments/gpt-4o/chat/completions"
                                 "?api-version=2024-10-21, a model-inference path",)
    query_only = classify(_service(), _api(inbound='<rewrite-uri template="/search/docs?next=/chat/completions" />'))
    assert not query_only.is_llm
    assert query_only.reasons == ("no LLM backend, policy or operation found",)


def test_a_multi_service_account_reached_with_no_path_is_noted_at_the_root():
    """`https://acct.cognitiveservices.azure.com` (no slash) forwards to `/`: the note names that path."""
    verdict = classify(_service(), _api("https://acct.cognitiveservices.azure.com"), accounts=(_account("AIServices"),))
    assert not verdict.is_llm
    assert verdict.reasons == ("no LLM backend, policy or operation found",
                               "acct.cognitiveservices.azure.com is the endpoint of account 'acct' (kind AIServices), "
                               "which serves non-LLM AI services too; the path (/) does not say it is model inference")


def test_a_backend_known_only_by_its_accounts_resource_id_is_noted_with_the_root_path():
    """A backend entity with a resource id and no URL: the account's kind decides, or the note says the path is /."""
    account = _account("AIServices")
    service = ApimService("gw", GW, backends=(Backend("hub", resource_id=account.resource_id),))
    verdict = classify(service, _api(inbound='<set-backend-service backend-id="hub" />'), accounts=(account,))
    assert not verdict.is_llm
    assert verdict.reasons[1:] == ("acct is the endpoint of account 'acct' (kind AIServices), which serves non-LLM AI "
                                   "services too; the path (/) does not say it is model inference",)
    openai = _account("OpenAI")
    service = ApimService("gw", GW, backends=(Backend("aoai", resource_id=openai.resource_id),))
    verdict = classify(service, _api(inbound='<set-backend-service backend-id="aoai" />'), accounts=(openai,))
    assert verdict.reasons == ("set-backend-service backend-id (line 1): backend 'aoai': acct is the endpoint of "
                               "account 'acct' (kind OpenAI)",)
