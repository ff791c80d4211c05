"""HD002: an LLM API that anyone can call without saying who they are."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_APIS, CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.headers import caller_identity_checks
from aoai_audit.rules import LOSS_UNKNOWN, Rule, Stake

from . import _refs
from ._support import chain_summary, group_failures

RULE = Rule(
    id="HD002",
    title="LLM API identifies no caller",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNKNOWN),
    rationale=(
        "With subscriptions not required and no token validation, the gateway knows nothing about the caller: "
        "no subscription, no user, no claim. Every token on this API is anonymous and lands in the unattributed "
        "bucket however well the metric is configured."
    ),
    detection=(
        "An LLM API whose `subscriptionRequired` is false, and whose effective inbound policy (in some operation "
        "× product context) has no `validate-jwt`, `validate-azure-ad-token` or `validate-client-certificate`. "
        "An API whose source does not state the subscription requirement is taken as requiring one (APIM's "
        "default)."
    ),
    fix="Require a subscription key, or validate a Microsoft Entra token and attribute by its claims.",
    fix_snippet="""<validate-azure-ad-token tenant-id="{{tenant-id}}" output-token-variable-name="jwt">
    <audiences>
        <audience>api://contoso-llm-gateway</audience>
    </audiences>
</validate-azure-ad-token>""",
    references=(_refs.SUBSCRIPTIONS, _refs.VALIDATE_JWT, _refs.VALIDATE_AAD, _refs.VALIDATE_CLIENT_CERT),
    requires=frozenset({CARRIES_POLICIES, CARRIES_APIS}),
    chain_link="identity",
)


def check(ctx: AuditContext):
    for view in ctx.judged_llm_apis:
        if view.api.subscription_required is not False:
            continue
        anonymous = [ep for ep in view.effective if not caller_identity_checks(ep.inbound)]
        for group in group_failures(view, anonymous):
            yield group.finding(
                RULE,
                f"LLM API '{view.api.display_name or view.api.name}': subscription not required and no token or "
                f"certificate validation for {group.calls}{group.how}; every call is anonymous",
                location=ctx.location(view.api.origin),
                evidence=["subscriptionRequired: false", chain_summary(group.eps[0])],
            )
