"""KQ003: gateway-metered tokens and platform-reported tokens disagree."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_PLATFORM_USAGE, CARRIES_USAGE
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._usage import tokens, usage_location

RULE = Rule(
    id="KQ003",
    title="Gateway and platform token counts differ",
    severity=Severity.MEDIUM,
    rationale=(
        "The Azure OpenAI account counts every token it serves. When the gateway metered fewer, the difference "
        "reached the model around the gateway (keys used directly) or was streamed and estimated low; when it "
        "metered more, streamed estimates ran high. Either way the chargeback does not add up to the bill."
    ),
    detection=(
        "Gateway tokens are compared with the accounts' `InputTokens` + `OutputTokens` platform metrics per "
        "account and day (gateway tokens without a model are placed on the account their API's backend names). A difference above the "
        "threshold (default 5%, `thresholds.reconciliation`) of the larger figure fires, once per account."
    ),
    fix=(
        "Close the bypass (BY001: disable local auth, restrict network access to the gateway) and make streamed "
        "calls report usage (ST001/ST002); then re-run."
    ),
    references=(_refs.AOAI_METRICS, _refs.AOAI_DISABLE_LOCAL_AUTH, _refs.AOAI_STREAM_OPTIONS),
    requires=frozenset({CARRIES_USAGE, CARRIES_PLATFORM_USAGE}),
)


def check(ctx: AuditContext):
    usage = ctx.usage
    if usage is None:
        return
    threshold = ctx.settings.reconciliation_threshold
    by_deployment: dict[str, list] = {}
    for rec in usage.reconciliation:
        if rec.share > threshold:
            by_deployment.setdefault(rec.deployment or rec.account, []).append(rec)
    for deployment, recs in sorted(by_deployment.items()):
        missing = sum(r.difference for r in recs)
        # days off in both directions can net to nothing: then no direction is true ("0 tokens less than" is not)
        direction = "more than" if missing > 0 else "less than" if missing < 0 else ""
        label = (f"deployment '{deployment}'" if recs[0].deployment else
                 f"account '{deployment}'" if deployment else "accounts not in the estate")
        days = ", ".join(r.day.isoformat() for r in recs[:7]) + (" …" if len(recs) > 7 else "")
        said = (f"the platform reported {tokens(abs(missing))} tokens {direction} the gateway metered on "
                f"{len(recs)} day(s) ({days})" if direction else
                f"the platform and the gateway differ on {len(recs)} day(s) ({days}), in both directions, netting to "
                "the same total over them")
        yield RULE.finding(
            f"usage/reconciliation/{deployment or 'all'}",
            f"{label}: {said}",
            location=usage_location(usage),
            evidence=[
                f"{r.day.isoformat()}: gateway {tokens(r.gateway_tokens)}, platform {tokens(r.platform_tokens)} "
                f"({r.share:.1%})"
                for r in recs[:10]
            ],
            tokens=abs(missing),
            key=deployment,
        )
