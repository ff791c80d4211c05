"""AU003: the audit found no LLM API at all; a gate must not pass on an empty view."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ESTATE
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
        "No API in anything scanned was classified as an LLM API (by Azure OpenAI / AI Services / Foundry / "
        "OpenAI-compatible backend URL, backend entity, `set-backend-service`, LLM policies or OpenAI-style "
        "operations). Evaluated whenever the inputs describe an estate (APIOps folder, ARM or Terraform JSON, "
        "snapshot, live), including one with AI accounts and no API Management at all. Loose policy and fragment "
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
    if ctx.llm_apis:
        return
    apis = len(ctx.apis)
    sources = ", ".join(f"{s.kind} {s.location}" for s in ctx.estate.sources) or "no source"
    accounts = ctx.estate.accounts
    fronted = ""
    if accounts:
        names = ", ".join(f"'{a.name}'" for a in accounts[:3]) + (f" and {len(accounts) - 3} more" if len(accounts) > 3 else "")
        fronted = (
            f"; {len(accounts)} Azure OpenAI / AI Services account(s) ({names}) were found with no API Management "
            "API in front of them in what was scanned, so their usage cannot be attributed to teams"
            if not ctx.estate.services else
            f"; {len(accounts)} Azure OpenAI / AI Services account(s) ({names}) were found but no API was "
            "recognised as calling them"
        )
    yield RULE.finding(
        "estate",
        f"no LLM API found among {apis} API(s) read from {sources}{fronted}; nothing about LLM cost attribution "
        "was checked",
    )
