"""Coverage figures for the report header: how much of the LLM estate is attributable, per link."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import consumer_dimensions, dimensions, token_metrics
from .context import ApiView, AuditContext
from .headers import forwarded_attribution_headers


@dataclass(frozen=True)
class ApiCoverage:
    resource: str
    has_metric: bool  # in every operation and product context
    has_consumer_dimension: bool
    forwards_attribution_header: bool


def forwards_attribution(view: ApiView, patterns: tuple[str, ...]) -> bool:
    """Every context sets a request header that carries the caller's attribution."""
    return bool(view.effective) and all(forwarded_attribution_headers(ep.sections, patterns) for ep in view.effective)


def api_coverage(view: ApiView, ctx: AuditContext) -> ApiCoverage:
    has_metric = bool(view.effective) and all(token_metrics(ep.inbound) for ep in view.effective)
    has_consumer = bool(view.effective) and all(
        any(consumer_dimensions(dimensions(m, ep.inbound)) for m, _ in token_metrics(ep.inbound))
        for ep in view.effective
    )
    return ApiCoverage(
        view.resource, has_metric, has_consumer, forwards_attribution(view, ctx.settings.attribution_headers)
    )


def coverage(ctx: AuditContext) -> dict[str, int]:
    rows = [api_coverage(v, ctx) for v in ctx.llm_apis]
    return {
        "apis": len(ctx.apis),
        "llm_apis": len(rows),
        "llm_apis_with_token_metric": sum(r.has_metric for r in rows),
        "llm_apis_with_consumer_dimension": sum(r.has_consumer_dimension for r in rows),
        "llm_apis_forwarding_attribution_header": sum(r.forwards_attribution_header for r in rows),
    }
