"""Loose policy files for the branch tests (issue 29): an LLM API whose inbound, backend, outbound and on-error
sections the test writes, audited with one rule."""

from __future__ import annotations

from pathlib import Path

from conftest import audit

BACKEND = '<set-backend-service base-url="https://contoso.openai.azure.com/openai" />'
METRIC = '<llm-emit-token-metric namespace="llm-usage"><dimension name="Subscription ID" /></llm-emit-token-metric>'


def policy(tmp_path: Path, inbound: str, *, name="chat", backend="", outbound="", on_error="") -> Path:
    """A loose APIM policy file for LLM API `name` (its backend is an Azure OpenAI endpoint)."""
    path = tmp_path / f"{name}.policy.xml"
    path.write_text(
        "<policies>\n<inbound>\n<base />\n" + BACKEND + "\n" + inbound + "\n</inbound>\n"
        f"<backend>\n<base />\n{backend}\n</backend>\n<outbound>\n<base />\n{outbound}\n</outbound>\n"
        f"<on-error>\n<base />\n{on_error}\n</on-error>\n</policies>\n"
    )
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def findings(path, registry, rule_id):
    result = audit(str(path), registry, only=(rule_id,))
    assert rule_id not in {n.rule.id for n in result.not_evaluated}
    assert result.ctx.llm_apis, "the fixture must be an LLM API, or the rule says nothing"
    return [f for f in result.findings if f.rule_id == rule_id]
