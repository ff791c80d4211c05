"""ST002 fires only on operations that can stream, and names them (issue 24, item 4).

Which operations take `stream: true`: chat completions, completions and responses (POST) in the Azure OpenAI
REST reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference; listings, retrievals, deletions,
files, batches and embeddings have no such parameter. A constructed estate, since the public APIOps extracts
with LLM operations carry no licence (tests/fixtures/real/SOURCES.md, "not copied").
"""

from __future__ import annotations

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import Api, ApimService, Estate, Operation, SourceInfo
from aoai_audit.policy.rawxml import read_policy

OPS = (
    ("chat", "POST", "/deployments/{deployment-id}/chat/completions"),
    ("responses", "POST", "/responses"),
    ("info", "GET", "/info"),
    ("test", "GET", "/test"),
    ("models", "GET", "/models"),
    ("get-response", "GET", "/responses/{response_id}"),
    ("delete-response", "DELETE", "/responses/{response_id}"),
    ("files", "POST", "/files"),
    ("batches", "POST", "/batches"),
    ("embeddings", "POST", "/deployments/{deployment-id}/embeddings"),
)
POLICY = ("<policies><inbound><base /><llm-emit-token-metric namespace=\"llm\"><dimension name=\"Subscription ID\" />"
          "</llm-emit-token-metric></inbound><backend><base /></backend><outbound><base /></outbound></policies>")


def _estate(*ops: tuple[str, str, str]) -> Estate:
    api = Api("openai", "OpenAI", "openai", "https://contoso.openai.azure.com/openai", subscription_required=True,
              policy=read_policy(POLICY, scope="api", label="api 'openai'"),
              operations=tuple(Operation(n, m, t, n) for n, m, t in ops))
    service = ApimService("gw", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw",
                          apis=(api,))
    return Estate(sources=(SourceInfo("apiops", "x", frozenset({"apis", "policies"})),), services=(service,))


def test_st002_names_only_the_operations_that_can_stream(registry):
    result = run_audit(_estate(*OPS), registry, Settings(only=("ST002",)))
    found = {f.resource.rsplit("/", 1)[-1]: f.message for f in result.findings if f.rule_id == "ST002"}
    assert set(found) == {"chat", "responses"}, found  # one finding per operation that can stream, at the operation
    assert "POST /deployments/{deployment-id}/chat/completions (chat)" in found["chat"]
    assert "POST /responses (responses)" in found["responses"]


def test_st002_silent_when_no_operation_can_stream(registry):
    cannot = [op for op in OPS if op[0] not in ("chat", "responses")]
    result = run_audit(_estate(*cannot), registry, Settings(only=("ST002",)))
    assert [f for f in result.findings if f.rule_id == "ST002"] == []


def test_a_wildcard_post_can_stream(registry):
    result = run_audit(_estate(("all", "POST", "/*"), ("list", "GET", "/models")), registry, Settings(only=("ST002",)))
    (finding,) = [f for f in result.findings if f.rule_id == "ST002"]
    assert finding.resource.endswith("/operations/all") and "POST /* (all)" in finding.message
