"""Small helpers the built-in checks share (formatting evidence, grouping contexts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aoai_audit.context import ApiView
from aoai_audit.policy.tree import PolicyNode
from aoai_audit.resolve.effective import EffectivePolicy


def chain_summary(ep: EffectivePolicy) -> str:
    parts = []
    for step in ep.chain:
        if step.policy is None:
            where = "no policy"
        elif step.policy.document is None:
            where = f"{step.policy.origin.label()} (could not be parsed)"
        else:
            where = step.policy.origin.label()
        parts.append(f"{step.label()}: {where}")
    return "scopes: " + " → ".join(parts)


def element_evidence(node: PolicyNode, text: str | None = None) -> str:
    attrs = " ".join(f'{k}="{v}"' for k, v in node.attrs)
    shown = text if text is not None else f"<{node.tag}{' ' + attrs if attrs else ''}>"
    return f"{node.origin.label()}: {shown}"


def by_product(effective: Iterable[EffectivePolicy]) -> dict[str | None, list[EffectivePolicy]]:
    groups: dict[str | None, list[EffectivePolicy]] = defaultdict(list)
    for ep in effective:
        groups[ep.product].append(ep)
    return dict(groups)


def context_of(view: ApiView, product: str | None) -> str:
    """The fingerprint context: empty when the API has one way in, else the product it is reached by."""
    if len({ep.product for ep in view.effective}) <= 1:
        return ""
    return f"via product '{product}'" if product else "without a product"


def why_llm(view: ApiView) -> str:
    return "classified as LLM API: " + "; ".join(view.verdict.reasons[:2])


def ops_label(eps: list[EffectivePolicy]) -> str:
    names = [ep.operation for ep in eps if ep.operation]
    if not names:
        return "the API"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"operation(s) {shown}"
