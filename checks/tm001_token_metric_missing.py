"""TM001: an LLM API operation has no effective token metric in its inbound section."""

from __future__ import annotations

from aoai_audit.analysis import TOKEN_METRIC_TAGS, token_metrics
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import chain_summary, element_evidence, group_failures, why_llm

RULE = Rule(
    id="TM001",
    title="LLM API operation has no effective token metric",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "Without `llm-emit-token-metric` (or the older `azure-openai-emit-token-metric`) in the effective "
        "inbound policy, the gateway never records who consumed the tokens of these calls. Azure bills the "
        "Azure OpenAI resource as a whole, so this traffic lands in no team's line of the chargeback sheet."
    ),
    detection=(
        "For every LLM API, every operation and every product the API can be called through, the effective "
        "inbound policy is computed (global → workspace → product → API → operation, honouring `<base/>` and "
        "expanding `<include-fragment>`). The rule fires when neither token-metric policy appears in it. "
        "A metric placed in `backend`, `outbound` or `on-error` does not count: the policy runs in inbound only."
    ),
    fix=(
        "Add the token metric once at the widest scope that covers all LLM APIs (global, workspace or the "
        "API), with a dimension that names the consumer, and keep `<base/>` in inner scopes."
    ),
    fix_snippet="""<inbound>
    <base />
    <llm-emit-token-metric namespace="llm-usage">
        <dimension name="Subscription ID" />
        <dimension name="Product ID" />
        <dimension name="API ID" />
    </llm-emit-token-metric>
</inbound>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.AOAI_EMIT_TOKEN_METRIC, _refs.POLICIES_HOWTO),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
    notes=(
        "Judged by the attribution model (docs/attribution.md): evaluated on LLM APIs whose spend is meant to be "
        "attributed at a gateway. Not fired on an LLM API of an APIM service or workspace that is one team (owner "
        "tag or cost-centre map entry) in front of accounts that team owns: that spend is attributed by resource."
    ),
)


def check(ctx: AuditContext):
    for view in ctx.judged_gateway_apis:
        missing = [ep for ep in view.effective if not token_metrics(ep.inbound)]
        for group in group_failures(view, missing):
            misplaced = {
                n: section
                for ep in group.eps
                for section in ("backend", "outbound", "on-error")
                for top in ep.sections.get(section, ())
                for n in top.iter()
                if n.tag in TOKEN_METRIC_TAGS
            }
            evidence = [why_llm(view), chain_summary(group.eps[0])]
            evidence += [
                element_evidence(n, f"<{n.tag}> is in the {section} section, not inbound, where it never runs")
                for n, section in misplaced.items()
            ]
            yield group.finding(
                RULE,
                f"LLM API '{view.api.display_name or view.api.name}': no effective token metric in the inbound "
                f"policy for {group.calls}{group.how}, so their tokens are attributed to no consumer",
                location=ctx.location(group.origin),
                evidence=evidence,
            )
