"""TM006: more than 5 custom dimensions on one token metric."""

from __future__ import annotations

from aoai_audit.analysis import BUILTIN_DIMENSIONS, norm_dimension, token_metrics
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import element_evidence

LIMIT = 5

RULE = Rule(
    id="TM006",
    title="More than 5 custom dimensions on a token metric",
    severity=Severity.MEDIUM,
    rationale=(
        "The token-metric and emit-metric policies accept at most 5 custom dimensions (older docs said 10). "
        "Azure Monitor allows 10 dimension keys per metric and API Management uses 5 of them for its defaults; "
        "dimensions past the limit do not arrive, so the attribution they carry is lost."
    ),
    detection="Counts the `<dimension>` children whose name is not one of the default dimensions "
    "(API ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID, Backend ID).",
    fix="Keep at most 5 custom dimensions; move detail such as deployment or route into logs "
    "(ApiManagementGatewayLlmLog) instead of metric dimensions.",
    fix_snippet="""<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
    <dimension name="Team" value="@(context.Product?.Id)" />
    <!-- at most 5 dimensions that are not default dimensions -->
</llm-emit-token-metric>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.EMIT_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
)


def check(ctx: AuditContext):
    for view in ctx.llm_apis:
        seen: set[int] = set()
        for ep in view.effective:
            for metric, _ in token_metrics(ep.inbound):
                if id(metric) in seen:
                    continue
                seen.add(id(metric))
                custom = [
                    c.get("name") or ""
                    for c in metric.children
                    if c.tag == "dimension" and norm_dimension(c.get("name") or "") not in BUILTIN_DIMENSIONS
                ]
                if len(custom) > LIMIT:
                    yield RULE.finding(
                        view.resource,
                        f"token metric has {len(custom)} custom dimensions ({', '.join(custom)}); only {LIMIT} "
                        "are accepted, the rest are lost",
                        location=ctx.location(metric.origin),
                        evidence=[element_evidence(metric)],
                        key=f"{metric.origin.scope}:{metric.get('namespace') or ''}",
                    )
