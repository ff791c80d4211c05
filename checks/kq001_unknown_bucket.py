"""KQ001: too many tokens land in the "unknown" bucket."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from aoai_audit.attribution.money import NO_TEAM, classify
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_USAGE
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule
from aoai_audit.usage.ledger import ledger_rows
from aoai_audit.usage.tally import UNKNOWN, Tally, UsageSummary, source_label

from . import _refs
from ._usage import as_money, tally_text, tokens, usage_location

RULE = Rule(
    id="KQ001",
    title="Unknown attribution bucket above threshold",
    severity=Severity.HIGH,
    rationale=(
        "The policies may look right and still leave the team column blank: a header nobody sends, a default "
        "value such as `unknown` or `N/A` supplied by the policy's own expression, a metric with no consumer "
        "dimension. Those tokens are paid for and charged to no one. This is the figure finance sees."
    ),
    detection=(
        "Gateway usage (live query or `--usage` file) is summed per attribution value. Values that are empty, "
        "missing, `null`, `unknown`, `N/A`, `none`, `-`, or a fallback the dimension's own expression supplies "
        "(`GetValueOrDefault(\"x-team-id\", \"N/A\")` makes `N/A` unknown) form the unknown bucket. The rule fires "
        "when its share of the platform's tokens (of the gateway-metered tokens when no platform figures were read) "
        "exceeds the threshold (default 5%, `thresholds.unknown_share`). Unknown-value tokens on a resource one "
        "team owns (its own APIM service or workspace, account or deployment: the attribution model) are that "
        "team's and are not counted: a header policy is not what attributes them."
    ),
    fix=(
        "Start with the APIs and products named in the finding: require the attribution header (check-header) "
        "or take the consumer from the APIM subscription or a validated token instead of a free header."
    ),
    fix_snippet="""<check-header name="x-team-id" failed-check-httpcode="400"
    failed-check-error-message="x-team-id is required for chargeback" ignore-case="true" />""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.CHECK_HEADER, _refs.APP_INSIGHTS),
    requires=frozenset({CARRIES_USAGE}),
    chain_link="cost_centre",
)


def _no_team(ctx: AuditContext, usage: UsageSummary) -> tuple[Tally, list[tuple[str, int]]]:
    """The unknown bucket as the attribution model sees it: unknown-value tokens on a resource one team owns (its
    own gateway, account, deployment or workspace) are that team's, not "no team"; the rest went to no team."""
    lines = [ln for ln in usage.ledger if ln.bucket == UNKNOWN]
    kept = [ln for ln in lines if classify(ln, ctx.attribution)[0] in NO_TEAM]
    # the cents are the ledger rows' (the unknown row of every table and export), never the bucket rounded alone
    in_cents = sum((r.money for r in ledger_rows(usage)
                    if r.bucket == UNKNOWN and classify(r, ctx.attribution)[0] in NO_TEAM), Decimal(0))
    if len(kept) == len(lines):
        return (replace(usage.unknown, money=in_cents),
                [(source_label(a, p), n) for (a, p), n in list(usage.unknown_sources.items())[:5]])
    tally = Tally()
    sources: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in kept:
        tally.add(round(ln.tokens), ln.money)
        sources[(ln.api, ln.product)] += ln.tokens
    top = sorted(sources.items(), key=lambda kv: -kv[1])[:5]
    return replace(tally, money=in_cents), [(source_label(a, p), round(n)) for (a, p), n in top]


def check(ctx: AuditContext):
    usage = ctx.usage
    if usage is None or not usage.gateway.tokens:
        return
    threshold = ctx.settings.unknown_share_threshold
    unknown, top = _no_team(ctx, usage)
    share = usage.share(unknown)
    if share <= threshold:
        return
    markers = sorted({m for values in usage.unknown_markers.values() for m in values if m})
    yield RULE.finding(
        "usage/unknown",
        f"{share:.1%} of {usage.base_label} ({tally_text(unknown, usage.currency)}) went to no team, above the "
        f"{threshold:.0%} threshold; most came from {', '.join(w for w, _ in top[:3])}",
        location=usage_location(usage),
        evidence=[f"{where}: {tokens(n)} tokens" for where, n in top]
        + [f"values counted as unknown: empty, missing, {', '.join(markers)}"],
        tokens=unknown.tokens,
        money=as_money(unknown, usage.currency),
    )
