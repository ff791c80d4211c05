"""The bundled example estate: the README's first command audits it; these are the gaps it must show."""

from __future__ import annotations

from conftest import EXAMPLE, audit, keyed

API = "service/contoso-apim/apis"


def test_example_findings(registry):
    result = audit(EXAMPLE, registry)
    got = keyed(result)
    expected = {
        ("TM001", f"{API}/chat-completions/operations/Embeddings_Create"),
        ("TM001", f"{API}/embeddings-search"),
        ("TM002", f"{API}/assistants-legacy"),
        ("TM003", f"{API}/chat-completions"),
        ("TM004", f"{API}/assistants-legacy"),
        ("TM005", "estate"),
        ("TM007", f"{API}/chat-completions/operations/Embeddings_Create"),
        ("TM008", "service/contoso-apim"),
        ("TM009", f"{API}/assistants-legacy"),
        ("TM009", f"{API}/chat-completions"),
        ("TM010", f"{API}/assistants-legacy"),
        ("HD001", f"{API}/chat-completions/operations/Embeddings_Create"),
        ("HD002", f"{API}/assistants-legacy"),
        ("HD003", f"{API}/chat-completions"),
        ("ST001", f"{API}/assistants-legacy"),
        ("ST002", f"{API}/assistants-legacy"),
        ("SEC001", f"{API}/embeddings-search"),
    }
    assert expected <= got
    # the well-built API is clean of token-metric findings
    # (ST002 stays: per the llm-emit-token-metric docs streamed token metrics are estimated even when the policy
    # asks for the usage chunk, as hr-copilot does)
    assert {k for k in got if k[1].startswith(f"{API}/hr-copilot") and k[0] != "TM008"} == {("ST002", f"{API}/hr-copilot")}
    assert result.exit_code() == 1


def test_example_classification(registry):
    result = audit(EXAMPLE, registry)
    verdicts = {v.api.name: v.verdict for v in result.ctx.apis}
    assert {n for n, v in verdicts.items() if v.is_llm} == {
        "chat-completions", "embeddings-search", "assistants-legacy", "hr-copilot"}
    assert any("aoai-pool" in r for r in verdicts["chat-completions"].reasons)
    assert not verdicts["weather"].is_llm and verdicts["weather"].reasons


def test_llm_override(registry):
    result = audit(EXAMPLE, registry, llm_include=("weather",), llm_exclude=("assistants-*",))
    verdicts = {v.api.name: v.verdict for v in result.ctx.apis}
    assert verdicts["weather"].is_llm and verdicts["weather"].overridden
    assert not verdicts["assistants-legacy"].is_llm
