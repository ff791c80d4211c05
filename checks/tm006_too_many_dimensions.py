"""TM006: more than 5 dimensions on one token metric (every <dimension> element counts)."""

from __future__ import annotations

from aoai_audit.analysis import BUILTIN_DIMENSIONS, norm_dimension, token_metrics
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import element_evidence, statement_scopes

# Microsoft's llm-emit-token-metric page ("Limits for custom metrics", current version): Azure Monitor allows
# 10 dimension keys per metric, API Management uses 5 of them for its own defaults (Region, Service ID, Service
# Name, Service Type, ...), so "you can configure at most 5 custom dimensions for this policy". Every <dimension>
# element the policy configures is one of those 5, a default-named one ("Subscription ID", "API ID") included;
# emit-metric has the same limit. Older pages said 10.
# https://learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy#limits-for-custom-metrics
# https://learn.microsoft.com/azure/api-management/emit-metric-policy
LIMIT = 5

RULE = Rule(
    id="TM006",
    title="More than 5 dimensions on a token metric",
    severity=Severity.MEDIUM,
    rationale=(
        "Azure Monitor allows 10 dimension keys per metric and API Management takes 5 of them for its own "
        "defaults, so a token-metric (or emit-metric) policy can configure at most 5 dimensions (older docs said "
        "10). Each `<dimension>` element counts, a default dimension such as `Subscription ID` or `API ID` used "
        "without a value included. Dimensions past the limit do not arrive, so the attribution they carry is lost."
    ),
    detection="Counts every `<dimension>` child of each `llm-emit-token-metric` / `azure-openai-emit-token-metric` "
    "in the effective policy of each LLM API (and, when loose policy or fragment files are scanned on their own, "
    "in each file as written); more than 5 fires.",
    fix="Keep at most 5 dimensions, default-named ones included; move detail such as deployment or route into logs "
    "(ApiManagementGatewayLlmLog) instead of metric dimensions.",
    fix_snippet="""<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
    <dimension name="API ID" />
    <dimension name="Team" value="@(context.Product?.Id)" />
    <!-- at most 5 <dimension> elements in all, default dimensions included -->
</llm-emit-token-metric>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.EMIT_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def check(ctx: AuditContext):
    seen: set[int] = set()
    for scope in statement_scopes(ctx):
        for metric, _ in token_metrics(scope.inbound):
            if id(metric) in seen:
                continue
            seen.add(id(metric))
            names = [c.get("name") or "?" for c in metric.children if c.tag == "dimension"]
            if len(names) <= LIMIT:
                continue
            defaults = sum(norm_dimension(n) in BUILTIN_DIMENSIONS for n in names)
            of_which = f", {defaults} of them default dimensions" if defaults else ""
            yield RULE.finding(
                scope.resource,
                f"token metric has {len(names)} dimensions ({', '.join(names)}){of_which}; a policy can configure "
                f"at most {LIMIT}, the rest are lost",
                location=ctx.location(metric.origin),
                evidence=[element_evidence(metric)],
                key=f"{metric.origin.scope}:{metric.get('namespace') or ''}",
            )
