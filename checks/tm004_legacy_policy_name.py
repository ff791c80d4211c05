"""TM004: the legacy azure-openai-emit-token-metric name is used."""

from __future__ import annotations

from aoai_audit.analysis import LEGACY_TOKEN_METRIC
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import element_evidence

RULE = Rule(
    id="TM004",
    title="Legacy azure-openai-emit-token-metric policy",
    severity=Severity.LOW,
    rationale=(
        "`azure-openai-emit-token-metric` only covers Azure OpenAI backends. Its successor "
        "`llm-emit-token-metric` takes the same dimensions and also meters other LLM providers, so one metric "
        "can cover every model the gateway serves."
    ),
    detection="Any policy (at any scope, or in a fragment) containing `<azure-openai-emit-token-metric>`.",
    fix="Rename the element to `llm-emit-token-metric`; attributes and dimensions stay as they are.",
    fix_snippet="""<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
</llm-emit-token-metric>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.AOAI_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
)


def check(ctx: AuditContext):
    for resource, policy in ctx.policies():
        doc = policy.document
        if doc is None:
            continue
        roots = list(doc.sections.values()) + list(doc.body)
        legacy = [node for root in roots for node in root.iter() if node.tag == LEGACY_TOKEN_METRIC]
        for ordinal, node in enumerate(legacy):
            yield RULE.finding(
                resource,
                "uses the legacy <azure-openai-emit-token-metric>; rename it to <llm-emit-token-metric>",
                location=ctx.location(node.origin),
                evidence=[element_evidence(node)],
                key=str(ordinal),
            )
