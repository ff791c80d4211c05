"""HD003: the attribution value is whatever the caller writes in a header."""

from __future__ import annotations

from aoai_audit.analysis import (
    assignments_before,
    dimensions,
    find,
    read_expression,
    resolve_variables,
    token_metrics,
)
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.headers import forwarded_attribution_headers, header_is_verified, header_value
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import element_evidence

RULE = Rule(
    id="HD003",
    title="Attribution taken from a header the caller can forge",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "A team id read from a request header is whatever the caller typed. Unless the gateway derives it from "
        "the authenticated identity or checks it against that identity, any caller can put another team's id in "
        "the header and bill its tokens to them; the chargeback is then a matter of trust, not of record."
    ),
    detection=(
        "Token-metric dimensions and forwarded attribution headers of LLM APIs attributed at a gateway (not a team's "
        "own gateway in front of accounts it owns: no header bills another team there) whose value reads a request header "
        "(directly or through `set-variable`) are checked for a binding to the caller's identity in the effective "
        "inbound policy: the header validated as a token (`validate-jwt header-name=...`), or a condition or "
        "expression comparing it with the subscription, user, product or a JWT claim. A header the gateway "
        "overwrites (`exists-action=\"override\"`) before use is not caller-supplied. `check-header` with a list "
        "of allowed values does not count: a caller can still pick another team's value."
    ),
    fix="Derive the value from the authenticated identity (a JWT claim or the subscription) instead of a header.",
    fix_snippet="""<validate-azure-ad-token tenant-id="{{tenant-id}}" output-token-variable-name="jwt" />
<llm-emit-token-metric namespace="llm-usage">
    <dimension name="Subscription ID" />
    <dimension name="Team" value="@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("azp", "unknown"))" />
</llm-emit-token-metric>""",
    references=(_refs.EXPRESSIONS, _refs.VALIDATE_JWT, _refs.VALIDATE_AAD, _refs.LLM_EMIT_TOKEN_METRIC),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="header",
)


def _overridden(header: str, inbound: tuple, stop) -> bool:
    """The gateway replaced the caller's value before `stop` (skip keeps the caller's value)."""
    for node, _path in find(inbound, "set-header", before=stop):
        if (node.get("name") or "").lower() == header:
            if (node.get("exists-action") or "override").lower() in ("override", "delete"):
                return True
    return False


def check(ctx: AuditContext):
    patterns = ctx.settings.attribution_headers
    for view in ctx.judged_gateway_apis:  # spend attributed by resource: no header can bill another team
        reported: set[tuple[int, str]] = set()
        for ep in view.effective:
            inbound = ep.inbound
            uses = []  # (node, what, headers read)
            for metric, _path in token_metrics(inbound):
                for dim in dimensions(metric, inbound):
                    uses.append((dim.node, metric, f"dimension '{dim.name}'", dim.source.headers))
            assignments = assignments_before(inbound, None)
            for node in forwarded_attribution_headers(ep.sections, patterns):
                source = resolve_variables(read_expression(header_value(node)), assignments)
                uses.append((node, node, f"forwarded header '{node.get('name')}'", source.headers))
            for node, stop, what, headers in uses:
                for header in headers:
                    if (id(node), header) in reported or _overridden(header, inbound, stop):
                        continue
                    if header_is_verified(header, inbound) is not None:
                        continue
                    reported.add((id(node), header))
                    yield RULE.finding(
                        view.resource,
                        f"LLM API '{view.api.display_name or view.api.name}': {what} is taken from caller header "
                        f"'{header}' and never checked against the caller's identity; any caller can bill another team",
                        location=ctx.location(node.origin),
                        evidence=[element_evidence(node)],
                        key=f"{what}:{header}",
                    )
