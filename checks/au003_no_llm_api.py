"""AU003: the audit found no LLM API at all; a gate must not pass on an empty view."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ESTATE
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

RULE = Rule(
    id="AU003",
    title="No LLM API and no AI account found",
    severity=Severity.HIGH,
    rationale=(
        "An audit of cost attribution that found no LLM API has checked nothing: the wrong folder was scanned, "
        "the classifier did not recognise the backends, or the reader lacked access. Passing the gate then "
        "would be a false all-clear."
    ),
    detection=(
        "No API in anything scanned was classified as an LLM API (by Azure OpenAI / AI Services / Foundry / "
        "OpenAI-compatible backend URL, backend entity, `set-backend-service`, LLM policies or OpenAI-style "
        "operations) AND the estate holds no Azure OpenAI / AI Services account. An estate of accounts without "
        "API Management (per-team accounts, Foundry projects) is not empty: its spend is judged by the attribution "
        "model and the OW rules. Evaluated whenever the inputs describe an estate (APIOps folder, ARM or Terraform "
        "JSON, snapshot, live). Loose policy and fragment "
        "files scanned on their own (the pre-commit hook on a changed file) are a statement-level audit: each "
        "statement is checked with the rules that can judge it alone, and AU003 is listed as not evaluated, "
        "because one file cannot show whether the estate serves LLM APIs."
    ),
    fix="Point the scan at the estate that serves LLM traffic, or declare the LLM APIs in the config "
    "(`llm_apis: {include: [\"my-llm-api\"]}`) or with `--llm-api NAME`.",
    fix_snippet="""# .aoai-audit.yaml
llm_apis:
  include: ["chat-*", "*/openai"]""",
    requires=frozenset({CARRIES_ESTATE}),
)


def check(ctx: AuditContext):
    if ctx.llm_apis or ctx.estate.accounts:
        return  # accounts without a gateway are an estate to judge (attribution model, OW rules), not an empty one
    apis = len(ctx.apis)
    sources = ", ".join(f"{s.kind} {s.location}" for s in ctx.estate.sources) or "no source"
    yield RULE.finding(
        "estate",
        f"no LLM API and no Azure OpenAI / AI Services account found among {apis} API(s) read from {sources}; "
        "nothing about LLM cost attribution was checked",
    )
