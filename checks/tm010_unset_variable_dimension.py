"""TM010: a dimension reads a context variable that nothing sets before it."""

from __future__ import annotations

import re

from aoai_audit.analysis import assignments_before
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import element_evidence, metric_sites

_VAR = re.compile(
    r"Variables\s*\.\s*(?:GetValueOrDefault|TryGetValue|ContainsKey)\s*(?:<[^<>()]{0,200}>\s*)?\(\s*\"([^\"]+)\"|"
    r"Variables\s*\[\s*\"([^\"]+)\"\s*\]"
)

RULE = Rule(
    id="TM010",
    title="Dimension reads a variable that is never set",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "`context.Variables[\"x\"]` or `GetValueOrDefault(\"x\")` in a dimension value is empty (or the default) "
        "when no `set-variable` ran before it, typically after a rename or when the setting policy lives in a "
        "scope that `<base/>` no longer pulls in. Every call then lands in the unknown bucket."
    ),
    detection=(
        "For every token-metric dimension of an LLM API, the variables its value reads are looked up in the "
        "effective inbound policy before the metric: `set-variable`, or any policy attribute that names an "
        "output variable (`output-token-variable-name`, `response-variable-name`, `variable-name`, …)."
    ),
    fix="Set the variable before the metric (same scope or an outer one reached through `<base/>`), "
    "or read the value directly.",
    fix_snippet="""<set-variable name="teamName" value="@(context.Product?.Name ?? &quot;&quot;)" />
<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Team" value="@(context.Variables.GetValueOrDefault<string>(&quot;teamName&quot;, &quot;&quot;))" />
</llm-emit-token-metric>""",
    references=(_refs.SET_VARIABLE, _refs.LLM_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def check(ctx: AuditContext):
    reported: set[tuple[int, int, str]] = set()  # (API, dimension, variable): each once per API
    for site in metric_sites(ctx.judged_gateway_apis):
        view = site.view
        assigned = assignments_before(site.inbound, site.metric)
        for dim in site.dimensions:
            for a, b in _VAR.findall(dim.value or ""):
                var = a or b
                if var in assigned or (id(view), id(dim.node), var) in reported:
                    continue
                reported.add((id(view), id(dim.node), var))
                yield RULE.finding(
                    view.resource,
                    f"LLM API '{view.api.display_name or view.api.name}': dimension '{dim.name}' reads "
                    f"variable '{var}', which no policy sets before the metric; the dimension is always "
                    "empty or default",
                    location=ctx.location(dim.node.origin),
                    evidence=[element_evidence(dim.node)],
                    key=f"{dim.name}:{var}",
                )
