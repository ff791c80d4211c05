"""TM003: a dimension reads a request header that nothing requires."""

from __future__ import annotations

from aoai_audit.analysis import unknown_markers
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.headers import header_is_required, headers_set_by_policy
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import element_evidence, metric_sites

RULE = Rule(
    id="TM003",
    title="Dimension depends on a header nobody has to send",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "When a dimension's value comes from a request header that callers may omit, every call without it "
        "is recorded with an empty or default value: an \"unknown\" bucket that finance cannot assign."
    ),
    detection=(
        "For each token-metric dimension of an LLM API whose value reads a request header (directly or via "
        "`set-variable`), the effective inbound policy is searched for something that rejects or defaults a "
        "request without that header: `check-header` for it, `validate-headers`, a `choose` branch on it that "
        "returns a response, or a `set-header exists-action=\"skip\"` default. A header the gateway itself sets "
        "earlier is not caller-supplied and does not fire."
    ),
    fix="Reject calls without the header (or derive the value from the subscription or token instead).",
    fix_snippet="""<check-header name="x-team-id" failed-check-httpcode="400"
              failed-check-error-message="x-team-id is required for cost attribution" ignore-case="true" />""",
    references=(_refs.CHECK_HEADER, _refs.LLM_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="dimension",
)


def check(ctx: AuditContext):
    reported: set[tuple[int, int, str]] = set()  # (API, dimension, header): each once per API
    for site in metric_sites(ctx.judged_gateway_apis):
        view = site.view
        set_by_gateway = headers_set_by_policy(site.inbound, site.metric)
        for dim in site.dimensions:
            for header in dim.source.headers:
                if (id(view), id(dim.node), header) in reported or header in set_by_gateway:
                    continue
                if header_is_required(header, site.inbound) is not None:
                    continue
                reported.add((id(view), id(dim.node), header))
                markers = unknown_markers(dim.source)
                bucket = f" (recorded as '{markers[0]}')" if markers and markers[0] else " (recorded empty)"
                yield RULE.finding(
                    view.resource,
                    f"LLM API '{view.api.display_name or view.api.name}': dimension '{dim.name}' reads "
                    f"header '{header}', which no policy requires; calls without it land in an unknown "
                    f"bucket{bucket}",
                    location=ctx.location(dim.node.origin),
                    evidence=[element_evidence(dim.node)],
                    key=f"{dim.name}:{header}",
                )
