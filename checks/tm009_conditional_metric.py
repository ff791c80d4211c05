"""TM009: the token metric runs only conditionally (inside a <choose> branch, or in some operations)."""

from __future__ import annotations

from aoai_audit.analysis import TOKEN_METRIC_TAGS, token_metrics
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.policy.tree import PolicyNode
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import by_product, element_evidence

RULE = Rule(
    id="TM009",
    title="Token metric emitted only conditionally",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "A token metric inside a `<when>` branch meters only the calls that take that branch; a metric in some "
        "operations of an API meters only those. The rest of the traffic is billed to the Azure OpenAI "
        "resource but appears in no team's usage."
    ),
    detection=(
        "A token metric whose ancestors include `<when>` or `<otherwise>`, unless every branch of that `<choose>` "
        "(including an `<otherwise>`) has one; or an LLM API where some operations have an effective token "
        "metric and others, reached through the same product, do not."
    ),
    fix="Emit the metric unconditionally, before or after the `<choose>`; vary dimension values instead.",
    fix_snippet="""<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
    <dimension name="Route" value="@(context.Variables.GetValueOrDefault<string>(&quot;route&quot;, &quot;default&quot;))" />
</llm-emit-token-metric>
<choose>
    <!-- routing only; no metric inside branches -->
</choose>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.POLICIES_HOWTO),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def _covers_all_branches(choose: PolicyNode) -> bool:
    branches = [c for c in choose.children if c.tag in ("when", "otherwise")]
    if not any(b.tag == "otherwise" for b in branches):
        return False
    return all(any(n.tag in TOKEN_METRIC_TAGS for n in b.iter()) for b in branches)


def check(ctx: AuditContext):
    for view in ctx.judged_gateway_apis:
        name = view.api.display_name or view.api.name
        seen: set[int] = set()
        for ep in view.effective:
            for metric, path in token_metrics(ep.inbound):
                chooses = [p for p in path if p.tag == "choose"]
                if not chooses or id(metric) in seen or all(_covers_all_branches(c) for c in chooses):
                    continue
                seen.add(id(metric))
                when = next((p for p in reversed(path) if p.tag in ("when", "otherwise")), None)
                condition = when.get("condition") if when is not None and when.tag == "when" else "otherwise"
                yield RULE.finding(
                    view.resource,
                    f"LLM API '{name}': the token metric runs only when {condition}; other calls are not metered",
                    location=ctx.location(metric.origin),
                    evidence=[element_evidence(when) if when is not None else "", element_evidence(metric)],
                    key=f"branch:{metric.origin.scope}:{metric.get('namespace') or ''}",
                )
        gaps: dict[tuple[str, ...], list[str | None]] = {}
        contexts = by_product(view.effective)
        for product, eps in contexts.items():
            metered = [ep.operation for ep in eps if ep.operation and token_metrics(ep.inbound)]
            without = tuple(ep.operation for ep in eps if ep.operation and not token_metrics(ep.inbound))
            if metered and without:
                gaps.setdefault(without, []).append(product)
        for without, products in gaps.items():
            everywhere = len(products) == len(contexts)
            via = "" if everywhere else " via " + ", ".join(f"product '{p}'" if p else "no product" for p in products)
            total = len({ep.operation for ep in view.effective})
            yield RULE.finding(
                view.resource,
                f"LLM API '{name}': {total - len(without)} of {total} operations emit the token metric{via}; "
                f"not metered: {', '.join(without[:8])}" + (" …" if len(without) > 8 else ""),
                location=ctx.location(view.policy_origin),
                key="operations:" + ",".join(sorted(p or "" for p in products)),
            )
