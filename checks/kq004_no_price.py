"""KQ004: usage for a model and region with no price."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_USAGE
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._usage import tokens, usage_location

RULE = Rule(
    id="KQ004",
    title="Usage with no price",
    severity=Severity.LOW,
    rationale=(
        "Tokens that cannot be priced are not free. Counting them at zero would make the unknown bucket and the "
        "team totals look smaller than the bill; the report keeps them apart and says so."
    ),
    detection=(
        "Each usage row is priced by model, version, deployment type (global, data zone, regional) and region "
        "from the price table (shipped, refreshed with `aoai-audit prices refresh`, or `--prices FILE`). Rows "
        "with no match, or with only a total where input and output are priced apart, fire once per model. A "
        "provisioned (PTU) deployment is billed per deployed PTU-hour, never per token: it fires when its PTU "
        "count was not read or no PTU-hour price is known for its type and region, naming its PTU count."
    ),
    fix=("Refresh the price table, or add the missing price (negotiated or reserved prices too) to a `--prices` "
         "override file: a per-token row under `prices:` for a token-billed deployment, a PTU-hour row under "
         "`ptu:` for a provisioned one."),
    fix_snippet="""currency: USD
per: 1M
prices:
  - {model: text-embedding-3-small, deployment_type: regional, region: eastus, input: "0.022", output: "0"}
ptu:
  - {deployment_type: ProvisionedManaged, region: brazilsouth, hourly: "2.00"}""",
    references=(_refs.RETAIL_PRICES_API, _refs.PTU_BILLING),
    requires=frozenset({CARRIES_USAGE}),
    chain_link="price",
)


def check(ctx: AuditContext):
    usage = ctx.usage
    if usage is None:
        return
    for gap in usage.unpriced:
        what = f"{gap.model}" + (f" {gap.version}" if gap.version else "") + f" ({gap.deployment_type}"
        what += f", {gap.region})" if gap.region else ")"
        yield RULE.finding(
            f"usage/prices/{gap.model}",
            f"{tokens(gap.tokens)} {'metered' if gap.source == 'gateway' else 'platform-reported'} tokens of {what} could not be priced: {gap.reason}; they are left out of every "
            "money figure",
            location=usage_location(usage),
            evidence=[f"price table: {usage.price_source}"],
            tokens=gap.tokens,
            key=f"{gap.model}:{gap.version}:{gap.deployment_type}:{gap.region}",
        )
