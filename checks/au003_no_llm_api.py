"""AU003: the audit found no LLM API at all; a gate must not pass on an empty view."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

RULE = Rule(
    id="AU003",
    title="No LLM API found",
    severity=Severity.HIGH,
    rationale=(
        "An audit of cost attribution that found no LLM API has checked nothing: the wrong folder was scanned, "
        "the classifier did not recognise the backends, or the reader lacked access. Passing the gate then "
        "would be a false all-clear."
    ),
    detection=(
        "No API in the estate was classified as an LLM API (by Azure OpenAI / AI Services / Foundry / "
        "OpenAI-compatible backend URL, backend entity, `set-backend-service`, LLM policies or OpenAI-style "
        "operations)."
    ),
    fix="Point the scan at the estate that serves LLM traffic, or declare the LLM APIs in the config "
    "(`llm_apis: {include: [\"my-llm-api\"]}`) or with `--llm-api NAME`.",
    fix_snippet="""# .aoai-audit.yaml
llm_apis:
  include: ["chat-*", "*/openai"]""",
    requires=frozenset({CARRIES_POLICIES}),
)


def check(ctx: AuditContext):
    if ctx.llm_apis:
        return
    apis = len(ctx.apis)
    sources = ", ".join(f"{s.kind} {s.location}" for s in ctx.estate.sources) or "no source"
    yield RULE.finding(
        "estate",
        f"no LLM API found among {apis} API(s) read from {sources}; nothing about LLM cost attribution was checked",
    )
