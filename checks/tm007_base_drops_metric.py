"""TM007: an inner scope's inbound section omits <base/> and loses a token metric defined outside it."""

from __future__ import annotations

from aoai_audit.analysis import TOKEN_METRIC_TAGS
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.resolve.effective import FragmentResolver, ScopeStep
from aoai_audit.resolve.views import ApiView, product_resource
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import section_origin

RULE = Rule(
    id="TM007",
    title="Missing <base/> drops an inherited token metric",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "A section without `<base/>` replaces everything the outer scopes put there. When the token metric "
        "lives at global, workspace, product or API scope, one operation or API that leaves out `<base/>` in "
        "`<inbound>` silently stops metering its tokens."
    ),
    detection=(
        "For each effective policy of an LLM API, every scope whose `<inbound>` section exists without "
        "`<base/>` is compared with the scopes outside it: if any of those has a token metric in its own "
        "inbound statements (fragments expanded), the inner scope drops it."
    ),
    fix="Put `<base/>` back in the inner scope's inbound section (first, unless order matters).",
    fix_snippet="""<inbound>
    <base />
    <!-- this scope's own statements -->
</inbound>""",
    references=(_refs.POLICIES_HOWTO, _refs.LLM_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def _own_metric(step, fragments: FragmentResolver):
    if not step.usable:
        return None
    section = step.policy.document.section("inbound")
    if section is None:
        return None
    for top in fragments.expand(section.children):
        for node in top.iter():
            if node.tag in TOKEN_METRIC_TAGS:
                return node
    return None


def _scope_resource(view: ApiView, step: ScopeStep) -> str:
    """The resource whose policy drops <base/>: a product is the one of the API's workspace (the only ones that
    reach it), a workspace is the service's."""
    if step.scope == "api":
        return view.resource
    if step.scope == "operation":
        return view.operation_resource(step.name)
    if step.scope == "product":
        return product_resource(view.service, step.name, view.api.workspace)
    return f"service/{view.service.name}/workspaces/{step.name}"


def check(ctx: AuditContext):
    for view in ctx.judged_gateway_apis:
        fragments = FragmentResolver(view.service.fragments, view.api.workspace)
        reported: set[tuple[str, str]] = set()
        for ep in view.effective:
            for i, step in enumerate(ep.chain):
                if step.policy is None or step.has_base("inbound") is not False:
                    continue  # (a step without a policy has no say: has_base is None)
                lost = [(outer, m) for outer in ep.chain[:i] if (m := _own_metric(outer, fragments)) is not None]
                if not lost:
                    continue
                outer, metric = lost[-1]
                resource = _scope_resource(view, step)
                if (resource, outer.label()) in reported:
                    continue
                reported.add((resource, outer.label()))
                yield RULE.finding(
                    resource,
                    f"the inbound section of {step.label()} has no <base/>, so the token metric defined at "
                    f"{outer.label()} ({metric.origin.label()}) never runs for "
                    f"LLM API '{view.api.display_name or view.api.name}'",
                    location=ctx.location(section_origin(step.policy, "inbound")),
                    evidence=[f"{metric.origin.label()}: <{metric.tag}> at {outer.label()}"],
                    key=outer.label(),
                )
