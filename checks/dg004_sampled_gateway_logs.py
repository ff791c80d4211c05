"""DG004: gateway logging keeps only a sample of the calls."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_LOGGING
from aoai_audit.findings import Severity
from aoai_audit.rules import LOSS_NONE, RISK_THROUGH, Rule, Stake

from . import _refs
from ._support import at

RULE = Rule(
    id="DG004",
    title="Gateway logs are sampled",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_NONE, RISK_THROUGH),
    rationale=(
        "A diagnostic that samples 25% of requests logs a quarter of the calls: per-caller figures built from "
        "those logs undercount every team by a different, random amount, and small consumers can disappear "
        "entirely."
    ),
    detection=(
        "APIM diagnostics (service-level or per API) of services with LLM APIs whose sampling percentage is "
        "below 100; LLM APIs whose spend is attributed by resource (a team's own gateway and accounts) are not "
        "judged."
    ),
    fix="Log every request on LLM APIs (fixed sampling at 100%).",
    fix_snippet="""\"sampling\": { \"samplingType\": \"fixed\", \"percentage\": 100 }""",
    references=(_refs.APIM_MONITOR, _refs.APP_INSIGHTS),
    requires=frozenset({CARRIES_LOGGING}),
    chain_link="destination",
)


def check(ctx: AuditContext):
    llm_by_service: dict[str, set[str]] = {}
    for view in ctx.gateway_apis:  # spend attributed by resource does not need per-caller logs (docs/attribution.md)
        llm_by_service.setdefault(view.service.name, set()).add(view.api.name)
    for service in ctx.estate.services:
        llm = llm_by_service.get(service.name)
        if not llm:
            continue
        for diag in service.diagnostics:
            pct = diag.sampling_percentage
            if pct is None or pct >= 100 or (diag.api is not None and diag.api not in llm):
                continue
            scope = "every API" if diag.api is None else f"API '{diag.api}'"
            yield RULE.finding(
                f"service/{service.name}" + (f"/apis/{diag.api}" if diag.api else ""),
                f"diagnostic '{diag.name}' logs {pct:g}% of requests for {scope}; per-caller usage from these "
                "logs is undercounted",
                location=at(diag.origin, service.resource_id),
                key=f"{diag.name}:{diag.api or ''}",
            )
