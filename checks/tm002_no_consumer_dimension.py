"""TM002: the token metric has no dimension that identifies the consumer."""

from __future__ import annotations

from aoai_audit.analysis import consumer_dimensions
from aoai_audit.attribution import TEAM_GATEWAY
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import element_evidence, metric_sites

RULE = Rule(
    id="TM002",
    title="Token metric has no consumer dimension",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNKNOWN),
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
    notes=(
        "Judged by the attribution model (docs/attribution.md). Satisfied where the APIM service or workspace is "
        "itself one team (an owner tag or a cost-centre map entry on it): every data point carries the default "
        "Service ID and Service Name dimensions (llm-emit-token-metric policy reference, 'Limits for custom "
        "metrics'), and a workspace's APIs are its own, so the instance or workspace is the consumer. Not fired on "
        "LLM APIs of a team's gateway in front of accounts that team owns: that spend is attributed by resource."
    ),
)


def check(ctx: AuditContext):
    seen: set[tuple[int, int]] = set()  # (API, metric): each metric once per API
    teams = {v.resource for v in ctx.judged_gateway_apis if ctx.attribution.role(v.resource) == TEAM_GATEWAY}
    # the service or workspace is the team: the default Service ID / Service Name dimensions (every data point
    # carries them) name it. https://learn.microsoft.com/en-us/azure/api-management/llm-emit-token-metric-policy
    for site in metric_sites(view for view in ctx.judged_gateway_apis if view.resource not in teams):
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
