"""HD001: nothing forwards the caller's attribution to the backend."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.headers import forwarded_attribution_headers
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import chain_summary, group_failures

RULE = Rule(
    id="HD001",
    title="No attribution header forwarded to the backend",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "Azure OpenAI's own diagnostic logs and any downstream accounting only see the request the gateway "
        "forwards. Without a header naming the caller (team, application or subscription) on that request, "
        "backend-side usage cannot be joined to a consumer, and the gateway metric is the only record left."
    ),
    detection=(
        "For each LLM API and each operation × product context, the effective inbound and backend policies are "
        "searched for a `set-header` whose name matches the configured attribution headers (default "
        "`x-attribution-*`, `x-team*`, `x-cost-cent*`, ...; see `attribution_headers` in the config) or whose "
        "value reads the subscription, user, product or a JWT claim."
    ),
    fix="Forward an attribution id derived from the authenticated caller.",
    fix_snippet="""<set-header name="x-attribution-id" exists-action="override">
    <value>@(context.Subscription?.Id ?? "anonymous")</value>
</set-header>""",
    references=(_refs.SET_HEADER, _refs.AOAI_MONITORING, _refs.EXPRESSIONS),
    requires=frozenset({CARRIES_POLICIES}),
    chain_link="header",
    notes=(
        "Judged by the attribution model (docs/attribution.md): evaluated on LLM APIs whose spend is meant to be "
        "attributed at a gateway. Not fired on an LLM API of an APIM service or workspace that is one team (owner "
        "tag or cost-centre map entry) in front of accounts that team owns: that spend is attributed by resource."
    ),
)


def check(ctx: AuditContext):
    patterns = ctx.settings.attribution_headers
    for view in ctx.judged_gateway_apis:
        missing = [ep for ep in view.effective if not forwarded_attribution_headers(ep.sections, patterns)]
        for group in group_failures(view, missing):
            yield group.finding(
                RULE,
                f"LLM API '{view.api.display_name or view.api.name}': no attribution header is set on the request "
                f"forwarded to the backend for {group.calls}{group.how}; backend logs cannot be joined to a caller",
                location=ctx.location(group.origin),
                evidence=[chain_summary(group.eps[0]), "attribution headers looked for: " + ", ".join(patterns)],
            )
