"""TM005: namespaces or dimension names differ across LLM APIs, so one query cannot sum them."""

from __future__ import annotations

import re
from collections import defaultdict

from aoai_audit.analysis import DEFAULT_NAMESPACE, norm_dimension
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import metric_sites

RULE = Rule(
    id="TM005",
    title="Token metrics use different namespaces or dimension names",
    severity=Severity.MEDIUM,
    rationale=(
        "Custom metrics are queried by namespace and dimension name. When one API emits `llm-usage/Team` and "
        "another `AzureOpenAI/team-id`, a single chargeback query misses part of the tokens, or double-counts "
        "them when someone adds both by hand."
    ),
    detection=(
        "All effective token metrics of LLM APIs are compared: more than one namespace (an omitted namespace "
        "is `API Management`), the same dimension spelled differently (`Team-Id`, `team_id`, `TeamId`), or the "
        "same value source (the same header, variable or identity) published under different names."
    ),
    fix="Pick one namespace and one name per dimension, ideally in one shared policy fragment.",
    fix_snippet="""<!-- policy fragment 'emit-llm-usage', included by every LLM API -->
<fragment>
    <llm-emit-token-metric namespace="llm-usage">
        <dimension name="Subscription ID" />
        <dimension name="Team" value="@(context.Product?.Id ?? &quot;&quot;)" />
    </llm-emit-token-metric>
</fragment>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.FRAGMENTS),
    requires=frozenset({CARRIES_POLICIES}),
)


def _loose(name: str, builtin: bool) -> str:
    """`Team`, `team_id`, `TeamId` and `Team-Id` are one dimension to a person writing the query."""
    norm = norm_dimension(name)
    if builtin:
        return norm
    stripped = re.sub(r"(id|name|code|key)$", "", norm)
    return stripped if len(stripped) >= 3 else norm


def _source_key(dim) -> str | None:
    if dim.builtin:
        return None
    src = dim.source
    if src.headers:
        return f"header {src.headers[0]}"
    if src.identity:
        return src.identity[0]
    if dim.value and dim.value.strip().startswith("@"):
        return "expression " + " ".join(dim.value.split())
    return None


def check(ctx: AuditContext):
    namespaces: dict[str, set[str]] = defaultdict(set)  # namespace -> APIs
    spellings: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # norm -> name -> APIs
    by_source: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # source -> name -> APIs
    first_location = None
    for site in metric_sites(ctx.judged_gateway_apis):
        label = site.view.api.name
        first_location = first_location or site.metric.origin
        namespaces[site.metric.get("namespace") or DEFAULT_NAMESPACE].add(label)
        for dim in site.dimensions:
            spellings[_loose(dim.name, dim.builtin)][dim.name].add(label)
            key = _source_key(dim)
            if key:
                by_source[key][dim.name].add(label)
    if len(namespaces) > 1:
        detail = "; ".join(f"'{ns}' in {', '.join(sorted(apis))}" for ns, apis in sorted(namespaces.items()))
        yield RULE.finding(
            "estate",
            f"token metrics are emitted into {len(namespaces)} namespaces: {detail}",
            location=ctx.location(first_location),
            key="namespace",
        )
    for norm, names in sorted(spellings.items()):
        if len(names) > 1:
            detail = "; ".join(f"'{n}' in {', '.join(sorted(apis))}" for n, apis in sorted(names.items()))
            yield RULE.finding("estate", f"one dimension is spelled {len(names)} ways: {detail}", key=f"name:{norm}")
    for source, names in sorted(by_source.items()):
        distinct = {_loose(n, False) for n in names}  # spelling variants are reported above
        if len(distinct) > 1:
            detail = "; ".join(f"'{n}' in {', '.join(sorted(apis))}" for n, apis in sorted(names.items()))
            yield RULE.finding(
                "estate", f"{source} is published under different dimension names: {detail}", key=f"source:{source}"
            )
