"""Chargeback export: the scored usage as a FOCUS 1.2 cost-and-usage CSV that finance can load.

FinOps Open Cost and Usage Specification (FOCUS) 1.2, github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec
tag v1.2, specification/columns/*.md (column ids, feature levels, nullability, allowed values) and
specification/attributes/{datetime_format,numeric_format,unit_format,key_value_format}.md. Custom columns
carry the `x_` prefix (specification/supported_features/custom_columns.md).

One row per day × bucket × consumer (team, with its cost centre and owner) × account × model: the rows are the
ledger's rows (auditor/usage/ledger.py: whole tokens and cents, rounded there, not here) and add up to the
platform total: teams + unknown bucket + traffic the gateway never saw (− what it over-metered) = what the
Azure OpenAI accounts served. The unknown bucket and the
unmetered traffic are rows of their own. Costs are estimates from the price table (x_PricingBasis says how
each row was priced); tokens with no price carry cost 0 with x_Priced=false, never a guessed price.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

from ..attribution.money import AT_GATEWAY, BY_RESOURCE_BUCKET, classify
from ..engine import AuditResult
from ..rules import Registry
from ..usage.ledger import ledger_rows
from ..usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED
from .formats import ReportInputError

FOCUS_VERSION = "1.2"
# The 21 columns FOCUS 1.2 makes Mandatory, then the Conditional and Recommended ones this data can fill (or
# must state as null), then the custom x_ columns. Order: spec columns alphabetically, as the spec lists them.
COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceId",
    "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceId", "SubAccountId",
    "SubAccountName", "Tags",
    "x_Bucket", "x_Tokens", "x_Consumer", "x_ConsumerDimension", "x_CostCentre", "x_Owner", "x_Model", "x_ModelVersion",
    "x_Deployment", "x_Apis", "x_Priced", "x_PricingBasis", "x_PriceSource", "x_FocusVersion",
    "x_AttributionPath", "x_AttributedBy",
)
MANDATORY = (  # FOCUS 1.2, Feature level "Mandatory"
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)
TOKENS_UNIT = "Tokens"  # unit_format.md: count-based unit "Token", plural form ("1000 Tokens" is its example)
TAG_PREFIX = "aoai-audit/"  # tags.md: provider-defined tag keys carry a provider-specific prefix
DESCRIBE = {
    CONSUMER: "tokens charged to {who}",
    UNKNOWN: "tokens that went to no team (unknown attribution bucket)",
    UNMETERED: "tokens the accounts served that no gateway metered",
    OVER_METERED: "gateway tokens above what the accounts reported (taken back so rows add up to the platform)",
}


def _time(day: dt.date) -> str:
    """datetime_format.md: extended ISO 8601 in UTC, 'YYYY-MM-DDTHH:mm:ssZ'."""
    return f"{day.isoformat()}T00:00:00Z"


def _month(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    return start, (start.replace(year=start.year + 1, month=1) if start.month == 12 else
                   start.replace(month=start.month + 1))


def _number(value: Decimal) -> str:
    """numeric_format.md: plain decimal, no thousands separators, no '+' sign, no exponent; always with a decimal
    point, so that loaders that infer types (Power BI, pandas) read every Decimal column as a decimal."""
    text = format(value, "f")
    if text.startswith("-") and not value:
        text = text[1:]
    return text if "." in text else text + ".0"


def focus_rows(result: AuditResult) -> list[dict[str, str]]:
    """The export's rows, in a stable order; raises ReportInputError when the audit had no usage."""
    usage = result.ctx.usage
    lines = usage.ledger if usage is not None else ()
    if usage is None or not lines:
        raise ReportInputError("--format focus needs usage: give --usage FILE (the export of `aoai-audit kql`) "
                               "or scan live; without it there is nothing to charge back")
    if usage.window is None and any(line.day is None for line in lines):
        raise ReportInputError("--format focus needs the usage window for window-wide figures")
    accounts = {a.name.lower(): a for a in result.estate.accounts}
    services = sorted({s.name for s in result.estate.services})
    billing_id = "aoai-audit/" + ("+".join(services) or "estate")
    billing_name = "Azure OpenAI through API Management" + (f" ({', '.join(services)})" if services else "")
    rows = []
    for row in ledger_rows(usage):
        day, bucket, dimension, consumer, account, model, region = (row.day, row.bucket, row.dimension, row.consumer,
                                                                    row.account, row.model, row.region)
        tokens, money, priced = row.tokens, row.money, row.priced
        start, end = (day, day + dt.timedelta(days=1)) if day else (usage.window[0], usage.window[1] + dt.timedelta(days=1))
        period_start, period_end = _month(start)[0], _month(end - dt.timedelta(days=1))[1]
        acc = accounts.get(account.lower()) if account else None
        rid = acc.resource_id if acc is not None and acc.resource_id else (account or "")
        parts = rid.split("/")
        subscription = parts[2] if rid.lower().startswith("/subscriptions/") and len(parts) > 2 else ""
        who = f"{consumer} ({dimension})" if dimension else consumer
        description = DESCRIBE[bucket].format(who=who) + (f", {model}" if model else "") + (
            f" on {account}" if account else "") + ("" if priced else "; not priced (no price in the table)")
        cost_centre = row.cost_centre
        path_bucket, how, path = classify(row, result.ctx.attribution)
        if path_bucket == BY_RESOURCE_BUCKET and path is not None and path.owner is not None and not cost_centre:
            cost_centre = path.owner.team  # isolated by resource: the owner tag or map entry names who pays
            description += f"; attributed by resource to {path.owner.team} ({path.owner.how})"
        elif path_bucket != AT_GATEWAY and path is not None:
            description += f"; {path_bucket}: {path.reason}"
        tags = {TAG_PREFIX + "bucket": bucket, TAG_PREFIX + "attribution-path": path_bucket}
        if bucket == CONSUMER:
            tags[TAG_PREFIX + "consumer"] = consumer
            tags[TAG_PREFIX + "dimension"] = dimension
        if cost_centre:
            tags[TAG_PREFIX + "cost-centre"] = cost_centre
        usage_row = bucket != OVER_METERED
        # skuid.md / skupriceid.md: not null on Usage rows. The model as served (and the price table it was priced
        # from) stands for the SKU: aoai-audit's id, not Microsoft's meter id (docs/focus.md says how to join).
        sku = "azure-openai/" + ("-".join(x for x in (model, row.model_version) if x) or "unidentified-model")
        sku_price = f"{sku}@{usage.price_source.rsplit('(as of ', 1)[-1].rstrip(')')}" if priced else f"{sku}@unpriced"
        cost = _number(money)
        rows.append({
            "AvailabilityZone": "", "BilledCost": cost, "BillingAccountId": billing_id,
            "BillingAccountName": billing_name, "BillingCurrency": usage.currency,
            "BillingPeriodEnd": _time(period_end), "BillingPeriodStart": _time(period_start),
            "CapacityReservationId": "", "CapacityReservationStatus": "",
            "ChargeCategory": "Usage" if usage_row else "Adjustment", "ChargeClass": "",
            "ChargeDescription": description, "ChargeFrequency": "Usage-Based",
            "ChargePeriodEnd": _time(end), "ChargePeriodStart": _time(start),
            **dict.fromkeys(("CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
                             "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
                             "CommitmentDiscountUnit"), ""),
            # consumedquantity.md: null unless ChargeCategory is Usage
            "ConsumedQuantity": _number(tokens) if usage_row else "", "ConsumedUnit": TOKENS_UNIT if usage_row else "",
            "ContractedCost": cost, "ContractedUnitPrice": "", "EffectiveCost": cost, "InvoiceId": "",
            "InvoiceIssuerName": "Microsoft", "ListCost": cost, "ListUnitPrice": "", "PricingCategory": "",
            "PricingQuantity": _number(tokens) if usage_row else "", "PricingUnit": TOKENS_UNIT if usage_row else "",
            "ProviderName": "Microsoft", "PublisherName": "Microsoft",
            "RegionId": region, "RegionName": region, "ResourceId": rid, "ResourceName": account,
            "ResourceType": "Azure OpenAI account" if account else "",
            "ServiceCategory": "AI and Machine Learning", "ServiceName": "Azure OpenAI",
            "ServiceSubcategory": "Generative AI", "SkuId": sku if usage_row else "", "SkuMeter": model, "SkuPriceId": sku_price if usage_row else "",
            "SubAccountId": subscription, "SubAccountName": "",
            "Tags": json.dumps(tags, ensure_ascii=False, sort_keys=True),
            "x_Bucket": bucket, "x_Tokens": _number(tokens), "x_Consumer": consumer, "x_ConsumerDimension": dimension,
            "x_CostCentre": cost_centre, "x_Owner": row.owner, "x_Model": model, "x_ModelVersion": row.model_version,
            "x_Deployment": row.deployment, "x_Apis": ", ".join(row.apis),
            "x_Priced": "true" if priced else "false",
            "x_PricingBasis": "; ".join(row.bases),
            "x_PriceSource": usage.price_source, "x_FocusVersion": FOCUS_VERSION,
            "x_AttributionPath": path_bucket, "x_AttributedBy": how,
        })
    return rows


def render_focus(result: AuditResult, registry: Registry) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(focus_rows(result))
    return out.getvalue()
