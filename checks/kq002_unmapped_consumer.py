"""KQ002: consumers seen in usage have no cost centre."""

from __future__ import annotations

from dataclasses import replace

from aoai_audit.attribution.money import AT_GATEWAY, classify
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_COST_CENTRES, CARRIES_USAGE
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule
from aoai_audit.usage.ledger import row_cents
from aoai_audit.usage.tally import CONSUMER

from . import _refs
from ._usage import as_money, tally_text, usage_location

RULE = Rule(
    id="KQ002",
    title="Consumer without a cost-centre mapping",
    severity=Severity.MEDIUM,
    rationale=(
        "A consumer the gateway identified, but whom the cost-centre map does not know, ends up on a line of the "
        "chargeback sheet that nobody pays. It usually means a new team or app was onboarded without finance."
    ),
    detection=(
        "Every attributed consumer in gateway usage (not the unknown bucket, see KQ001) is looked up in the "
        "`--cost-centres` map by its value, then its product, then its API. One finding per consumer left over "
        "whose spend is meant to be attributed at the gateway: a consumer whose tokens the attribution model "
        "attributes by resource (an account, deployment, APIM service or workspace one team owns, through a tag or "
        "the map) already has its payer, so the consumer value needs no entry of its own."
    ),
    fix="Add the consumer (or its product) to the cost-centre map with an owner.",
    fix_snippet="""cost_centres:
  - consumer: hr-portal-app      # the attribution value, globs allowed
    dimension: Caller App        # optional: only for this dimension
    cost_centre: CC-4300
    owner: hr-platform@contoso.com""",
    references=(_refs.COST_ALLOCATION, _refs.SUBSCRIPTIONS),
    requires=frozenset({CARRIES_USAGE, CARRIES_COST_CENTRES}),
    chain_link="cost_centre",
)


def check(ctx: AuditContext):
    usage = ctx.usage
    if usage is None:
        return
    at_gateway = _at_gateway_consumers(ctx)
    in_cents = row_cents(usage)  # a team's cents as every table and export shows them
    for consumer in usage.unmapped:
        if (consumer.dimension, consumer.value) not in at_gateway:
            continue  # its spend is attributed by resource: the owner of the resource pays it
        apis = ", ".join(sorted(consumer.apis, key=lambda a: -consumer.apis[a])[:3]) or "unknown APIs"
        tally = replace(consumer.tally, money=in_cents[(CONSUMER, consumer.dimension, consumer.value)])
        yield RULE.finding(
            f"usage/consumers/{consumer.dimension or '-'}/{consumer.value}",
            f"consumer '{consumer.value}' ({consumer.dimension or 'no dimension'}) used "
            f"{tally_text(tally, usage.currency)} through {apis} and has no cost centre",
            location=usage_location(usage),
            tokens=tally.tokens,
            money=as_money(tally, usage.currency),
            key=f"{consumer.dimension}:{consumer.value}",
        )


def _at_gateway_consumers(ctx: AuditContext) -> set[tuple[str, str]]:
    """(dimension, value) of the consumers with at least one ledger line the attribution model attributes at the
    gateway; a consumer whose every line lands by resource is someone else's to map."""
    lines = ctx.usage.ledger if ctx.usage is not None else ()
    return {(ln.dimension, ln.consumer) for ln in lines
            if ln.bucket == CONSUMER and classify(ln, ctx.attribution)[0] == AT_GATEWAY}
