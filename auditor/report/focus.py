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
from ..attribution.statement import NEVER, PASSED, line_of
from ..engine import AuditResult
from ..rules import Registry
from ..usage.ledger import ledger_rows
from ..usage.tally import CONSUMER, OVER_METERED, PTU_UNUSED, UNKNOWN, UNMETERED
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
    "x_Account", "x_Deployment", "x_Apis", "x_Priced", "x_PricingBasis", "x_PriceSource", "x_FocusVersion",
    "x_AttributionPath", "x_AttributedBy", "x_Line", "x_LineName", "x_UnpricedTokens",
)
MANDATORY = (  # FOCUS 1.2, Feature level "Mandatory"
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)
HOURS_UNIT = "Hours"  # unit_format.md: time-based unit; a PTU row's quantity is PTUs × hours
HOURS_PLACES = Decimal("0.000001")
TOKENS_UNIT = "Tokens"  # unit_format.md: count-based unit "Token", plural form ("1000 Tokens" is its example)
TAG_PREFIX = "aoai-audit/"  # tags.md: provider-defined tag keys carry a provider-specific prefix
DESCRIBE = {
    CONSUMER: "tokens charged to {who}",
    UNKNOWN: "tokens that went to no team (unknown attribution bucket)",
    UNMETERED: "tokens the accounts served that no gateway metered",
    OVER_METERED: "gateway tokens above what the accounts reported (taken back so rows add up to the platform)",
    PTU_UNUSED: "reserved PTU-hours of a provisioned deployment no team used (billed per deployed PTU-hour)",
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


def _span(day: dt.date | None, window: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    """The days a row covers, end exclusive: its own day, or the whole window for a window-wide figure."""
    if day:
        return day, day + dt.timedelta(days=1)
    if window is None:
        raise ReportInputError("--format focus needs the usage window for window-wide figures")
    return window[0], window[1] + dt.timedelta(days=1)


def _resource_id(account: str, estate_ids: dict[str, str], usage_ids: dict[str, str]) -> str:
    """resourceid.md: the provider's unique id of the resource, so the full ARM id of the Azure OpenAI account (what
    Microsoft's FOCUS cost export puts in ResourceId, the key a join on it needs). From the estate, else from the
    usage files' metric or deployment ids; null when neither names it: a bare name would join with nothing."""
    if not account:
        return ""
    if account.lower().startswith("/subscriptions/"):
        return account
    return estate_ids.get(account.lower()) or usage_ids.get(account.lower(), "")


def focus_rows(result: AuditResult) -> list[dict[str, str]]:
    """The export's rows, in a stable order; raises ReportInputError when the audit had no usage."""
    usage = result.ctx.usage
    lines = usage.ledger if usage is not None else ()
    if usage is None or not lines:
        raise ReportInputError("--format focus needs usage: give --usage FILE (the export of `aoai-audit kql`) "
                               "or scan live; without it there is nothing to charge back")
    if usage.window is None and any(line.day is None for line in lines):
        raise ReportInputError("--format focus needs the usage window for window-wide figures")
    accounts = {a.name.lower(): a.resource_id for a in result.estate.accounts if a.resource_id}
    usage_ids = {ref.name.lower(): ref.resource_id for ref in (result.estate.usage.accounts if result.estate.usage
                                                               else ())}
    services = sorted({s.name for s in result.estate.services})
    billing_id = "aoai-audit/" + ("+".join(services) or "estate")
    billing_name = "Azure OpenAI through API Management" + (f" ({', '.join(services)})" if services else "")
    attribution = result.ctx.attribution
    rows = []
    for row in ledger_rows(usage):
        day, bucket, dimension, consumer, account, model, region = (row.day, row.bucket, row.dimension, row.consumer,
                                                                    row.account, row.model, row.region)
        tokens, money, priced = row.tokens, row.money, row.priced
        start, end = _span(day, usage.window)
        period_start, period_end = _month(start)[0], _month(end - dt.timedelta(days=1))[1]
        rid = _resource_id(account, accounts, usage_ids)
        parts = rid.split("/")
        # subaccountid.md: the grouping the provider bills under, for Azure the subscription, written as its ARM id
        # (/subscriptions/{id}) the way Microsoft's own FOCUS export writes SubAccountId
        subscription = "/".join(parts[:3]) if rid.lower().startswith("/subscriptions/") and len(parts) > 2 else ""
        who = f"{consumer} ({dimension})" if dimension else consumer
        description = ("NOT PRICED (no price in the table: cost 0 is unknown, not free): " if not priced and tokens
                       else "") + DESCRIBE[bucket].format(who=who) + (f", {model}" if model else "") + (
            f" on {account}" if account else "")
        cost_centre = row.cost_centre
        path_bucket, how, path = classify(row, attribution)
        if path_bucket == BY_RESOURCE_BUCKET and path is not None and path.owner is not None and not cost_centre:
            cost_centre = path.owner.team  # isolated by resource: the owner tag or map entry names who pays
            description += f"; attributed by resource to {path.owner.team} ({path.owner.how})"
        elif path_bucket != AT_GATEWAY and path is not None:
            description += f"; {path_bucket}: {path.reason}"
        line, line_name, _how = line_of(row, attribution)
        if line in (PASSED, NEVER):
            description += f"; {line_name}"
        tags = {TAG_PREFIX + "bucket": bucket, TAG_PREFIX + "attribution-path": path_bucket, TAG_PREFIX + "line": line}
        if not priced:
            tags[TAG_PREFIX + "priced"] = "false"
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
            # pricingquantity.md / pricingunit.md: the quantity and unit the price list rates. A provisioned (PTU)
            # deployment is rated per deployed PTU per hour (Retail Prices API unitOfMeasure "1 Hour", usage/ptu.py),
            # so its rows are priced in PTU-hours ("Hours", unit_format.md time-based), not in the tokens consumed.
            "PricingQuantity": (_number(row.ptu_hours.quantize(HOURS_PLACES)) if row.ptu_hours is not None
                                else _number(tokens)) if usage_row else "",
            "PricingUnit": (HOURS_UNIT if row.ptu_hours is not None else TOKENS_UNIT) if usage_row else "",
            "ProviderName": "Microsoft", "PublisherName": "Microsoft",
            "RegionId": region, "RegionName": region, "ResourceId": rid, "ResourceName": account if rid else "",
            "ResourceType": "Azure OpenAI account" if rid else "",  # resourcetype.md: null exactly when ResourceId is
            "ServiceCategory": "AI and Machine Learning", "ServiceName": "Azure OpenAI",
            "ServiceSubcategory": "Generative AI", "SkuId": sku if usage_row else "", "SkuMeter": model, "SkuPriceId": sku_price if usage_row else "",
            # subaccountname.md: not null when SubAccountId is not; no input carries the subscription's display
            # name, so it is the subscription's id (docs/focus.md)
            "SubAccountId": subscription, "SubAccountName": subscription.rsplit("/", 1)[-1],
            "Tags": json.dumps(tags, ensure_ascii=False, sort_keys=True),
            "x_Bucket": bucket, "x_Tokens": _number(tokens), "x_Consumer": consumer, "x_ConsumerDimension": dimension,
            "x_CostCentre": cost_centre, "x_Owner": row.owner, "x_Model": model, "x_ModelVersion": row.model_version,
            "x_Account": account, "x_Deployment": row.deployment, "x_Apis": ", ".join(row.apis),
            "x_Priced": "true" if priced else "false",
            "x_PricingBasis": "; ".join(row.bases),
            "x_PriceSource": usage.price_source, "x_FocusVersion": FOCUS_VERSION,
            "x_AttributionPath": path_bucket, "x_AttributedBy": how,
            "x_Line": line, "x_LineName": line_name, "x_UnpricedTokens": "0.0" if priced else _number(tokens),
        })
    return rows


# Columns this module fills with numbers it formats itself (a negative one starts with "-" and stays a number).
NUMERIC = frozenset({"BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "ConsumedQuantity",
                     "PricingQuantity", "x_Tokens"})
# OWASP, CSV Injection (https://owasp.org/www-community/attacks/CSV_Injection): a cell that begins with
# = + - @ tab or carriage return is a formula to Excel and LibreOffice; prefix it with a single quote. The
# full-width forms are included (spreadsheets in East Asian locales read them as the ASCII ones), and so is a
# leading quote itself, so that dropping one leading quote always gives back the original value.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20", "'")


def neutralise(value: str) -> str:
    """A text cell as a spreadsheet shows it, never runs it; `recover` gives the value back."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def recover(cell: str) -> str:
    """The original value of a neutralised text cell (docs/focus.md, "Formula injection")."""
    return cell[1:] if cell.startswith("'") else cell


def render_focus(result: AuditResult, registry: Registry) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")  # RFC 4180 quoting of , " and newlines
    writer.writeheader()
    # consumer values come from a caller-sent header, cost centres and owners from a map: none reaches a cell raw
    writer.writerows({k: v if k in NUMERIC else neutralise(v) for k, v in row.items()} for row in focus_rows(result))
    return out.getvalue()
