"""TM002: the token metric has no dimension that identifies the consumer."""

from __future__ import annotations

from aoai_audit.analysis import consumer_dimensions
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import element_evidence, metric_sites

RULE = Rule(
    id="TM002",
    title="Token metric has no consumer dimension",
    severity=Severity.HIGH,
    rationale=(
        "Tokens are counted, but every data point carries only dimensions such as API ID, Location or a "
        "deployment name. Nothing says who made the call, so the metric cannot be split by team and the "
        "chargeback sheet's team column stays blank."
    ),
    detection=(
        "Each effective token metric of an LLM API is read for a dimension naming the consumer: the built-in "
        "`Subscription ID`, `Product ID` or `User ID`, or a custom dimension whose value reads the subscription, "
        "user or product (`context.Subscription`, `context.User`, `context.Product`), a JWT claim, or a caller "
        "header (directly or through `set-variable`)."
    ),
    fix="Add a consumer dimension; the built-in `Subscription ID` needs no value.",
    fix_snippet="""<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
    <dimension name="Product ID" />
    <dimension name="API ID" />
</llm-emit-token-metric>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.EXPRESSIONS),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def check(ctx: AuditContext):
    seen: set[tuple[int, int]] = set()  # (API, metric): each metric once per API
    for site in metric_sites(ctx):
        view, metric = site.view, site.metric
        if (id(view), id(metric)) in seen:
            continue
        seen.add((id(view), id(metric)))
        dims = site.dimensions
        if consumer_dimensions(dims):
            continue
        names = ", ".join(d.name for d in dims) or "none"
        yield RULE.finding(
            view.resource,
            f"LLM API '{view.api.display_name or view.api.name}': the token metric "
            f"(namespace '{metric.get('namespace') or 'API Management'}') has dimensions {names}, none of "
            "which identifies the caller; its tokens cannot be charged back to a team",
            location=ctx.location(metric.origin),
            evidence=[element_evidence(metric)] + [element_evidence(d.node) for d in dims[:6]],
            key=f"{metric.origin.scope}:{metric.get('namespace') or ''}",
        )
