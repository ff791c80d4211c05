"""The FOCUS chargeback export: validates, adds up to the platform total, one row per day × team × account × model."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.report.focus import MANDATORY, render_focus
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.model import PLATFORM, UsageData, UsageRow
from aoai_audit.usage.tally import cents
from conftest import ROOT
from focus_validation import validate, why_unavailable
from test_usage import example_result

# Every column id FOCUS 1.2 defines (FOCUS_Spec tag v1.2, specification/columns/*.md "Column ID"): a column of the
# export is one of these or a custom x_ column (specification/supported_features/custom_columns.md).
FOCUS_12 = frozenset(["AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags"])
PLAIN_DECIMAL = re.compile(r"^-?\d+\.\d+$")  # no exponent, no thousands separator, no '+'
UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")  # attributes/datetime_format.md


@pytest.fixture(scope="module")
def example(registry):
    result = example_result(registry)
    text = render_focus(result, registry)
    return result, text, list(csv.DictReader(io.StringIO(text)))


@pytest.mark.skipif(why_unavailable() is not None, reason=why_unavailable() or "")
def test_the_example_validates_with_the_focus_validator(example, tmp_path):
    path = tmp_path / "focus.csv"
    path.write_text(example[1], encoding="utf-8")
    checks = validate(path)
    assert len(checks) > 100  # the validator's FOCUS 1.0 rule set ran, column by column
    assert [c for c in checks if c[1] != "passed"] == []


def test_columns_are_focus_12_ids_or_custom_and_mandatory_ones_are_filled(example):
    _result, _text, rows = example
    columns = list(rows[0])
    assert set(MANDATORY) <= set(columns)
    assert all(c in FOCUS_12 or c.startswith("x_") for c in columns)
    for row in rows:
        for col in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency", "ChargeCategory",
                    "BillingAccountId", "ServiceName", "ServiceCategory", "ProviderName", "InvoiceIssuerName"):
            assert row[col], (col, row)
        for col in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
            assert UTC.match(row[col]), (col, row[col])
        assert row["ChargeClass"] == ""  # not a correction of an earlier invoice
        if row["ChargeCategory"] == "Usage":
            assert row["ConsumedUnit"] == row["PricingUnit"] == "Tokens" and row["SkuId"] and row["SkuPriceId"]
            assert Decimal(row["ConsumedQuantity"]) == Decimal(row["PricingQuantity"]) > 0
        assert row["BilledCost"] == row["EffectiveCost"] == row["ListCost"] == row["ContractedCost"]
        for col in ("BilledCost", "ConsumedQuantity", "PricingQuantity", "x_Tokens", "x_UnpricedTokens"):
            assert row[col] == "" or PLAIN_DECIMAL.match(row[col]), (col, row[col])  # attributes/numeric_format.md


def test_rows_add_up_to_the_platform_total_with_the_unknown_and_unmetered_rows_of_their_own(example):
    result, _text, rows = example
    usage = result.ctx.usage
    # every row in cents and whole tokens, and still the platform total the reports state, to the cent
    assert sum(Decimal(r["BilledCost"]) for r in rows) == cents(usage.platform.money)
    usage_rows = [r for r in rows if r["ChargeCategory"] == "Usage"]
    assert sum(Decimal(r["ConsumedQuantity"]) for r in usage_rows) == sum(Decimal(r["x_Tokens"]) for r in usage_rows)
    assert sum(Decimal(r["x_Tokens"]) for r in rows) == usage.platform.tokens
    def near(rows_, money, tokens):  # each row rounds by at most a cent and a token
        return (abs(sum(Decimal(r["BilledCost"]) for r in rows_) - money) <= Decimal("0.01") * len(rows_)
                and abs(sum(Decimal(r["x_Tokens"]) for r in rows_) - tokens) <= len(rows_))

    unknown = [r for r in rows if r["x_Bucket"] == "unknown"]
    assert unknown and near(unknown, usage.unknown.money, usage.unknown.tokens)
    assert all(r["x_Consumer"] == "" for r in unknown)
    unmetered = [r for r in rows if r["x_Bucket"] == "unmetered"]
    assert unmetered and near(unmetered, usage.unmetered.money, usage.unmetered.tokens)
    for consumer in usage.consumers:
        mine = [r for r in rows if r["x_Consumer"] == consumer.value and r["x_ConsumerDimension"] == consumer.dimension]
        assert near(mine, consumer.tally.money, consumer.tally.tokens)
        assert {r["x_CostCentre"] for r in mine} == {consumer.cost_centre or ""}
    # tokens without a price: cost 0, said so, never a guessed price
    unpriced = [r for r in rows if r["x_Priced"] == "false"]
    assert unpriced and all(Decimal(r["BilledCost"]) == 0 and r["ChargeDescription"].startswith("NOT PRICED")
                            and Decimal(r["x_UnpricedTokens"]) == Decimal(r["x_Tokens"]) > 0
                            and json.loads(r["Tags"])["aoai-audit/priced"] == "false" for r in unpriced)
    # and no priced row claims unpriced tokens: a reader filtering on x_UnpricedTokens finds exactly these
    assert all(Decimal(r["x_UnpricedTokens"]) == 0 for r in rows if r["x_Priced"] == "true")


def test_one_row_per_day_team_account_model(example):
    rows = example[2]
    keys = Counter((r["ChargePeriodStart"], r["x_Bucket"], r["x_ConsumerDimension"], r["x_Consumer"], r["ResourceName"],
                    r["x_Model"], r["x_ModelVersion"], r["x_Deployment"], r["x_Priced"]) for r in rows)
    assert max(keys.values()) == 1
    assert {r["ChargePeriodStart"][:10] for r in rows} == {"2026-11-01", "2026-11-02"}
    for r in rows:
        if r["ChargeCategory"] == "Adjustment":  # the usage layer states over-metering for the whole window
            continue
        start = dt.datetime.fromisoformat(r["ChargePeriodStart"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(r["ChargePeriodEnd"].replace("Z", "+00:00"))
        assert end - start == dt.timedelta(days=1)


def test_gateway_above_platform_is_taken_back_so_rows_still_add_up(registry, tmp_path):
    policy = tmp_path / "chat.xml"
    policy.write_text('<policies><inbound><base /><llm-emit-token-metric namespace="u"><dimension name="Team" '
                      'value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team&quot;, &quot;&quot;))" />'
                      "</llm-emit-token-metric></inbound></policies>")
    day = dt.date(2026, 11, 1)
    common = {"model": "gpt-4o", "model_version": "2024-08-06", "deployment": "gpt-4o", "deployment_type": "global",
              "region": "eastus"}
    rows = (UsageRow(day, dimension="Team", consumer="a", input_tokens=800_000_000, output_tokens=200_000_000, **common),
            UsageRow(day, dimension="Team", consumer="", input_tokens=400_000_000, output_tokens=100_000_000, **common),
            UsageRow(day, source=PLATFORM, account="acc", input_tokens=1_000_000_000, output_tokens=250_000_000, **common))
    estate = replace(load_paths([str(policy)]), usage=UsageData(rows=rows, window=(day, day), origin="test"))
    result = run_audit(estate, registry, Settings(llm_include=("*",)))
    out = list(csv.DictReader(io.StringIO(render_focus(result, registry))))
    assert sum(Decimal(r["BilledCost"]) for r in out) == cents(result.ctx.usage.platform.money)
    adjustments = [r for r in out if r["ChargeCategory"] == "Adjustment"]
    assert adjustments and all(Decimal(r["BilledCost"]) < 0 and r["ConsumedQuantity"] == "" for r in adjustments)
    assert sum(Decimal(r["x_Tokens"]) for r in out) == result.ctx.usage.platform.tokens == 1_250_000_000


def test_without_usage_the_export_is_refused_in_one_line():
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", "fixtures/example/contoso-apim",
                           "--format", "focus"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "--usage FILE" in proc.stderr


ARM_ACCOUNT = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/accounts/"
                         r"([^/]+)$", re.I)


def test_resource_id_is_the_full_arm_id_and_sub_account_the_subscription(example):
    """ResourceId joins with Microsoft's own FOCUS cost export only as the account's full ARM id: the example's estate
    is an APIOps extract without accounts, so the ids come from the platform metrics' metric ids."""
    rows = example[2]
    with_account = [r for r in rows if r["ResourceName"]]
    assert with_account
    for r in with_account:
        m = ARM_ACCOUNT.match(r["ResourceId"])
        assert m and m.group(2) == r["ResourceName"], r["ResourceId"]
        assert r["SubAccountId"] == f"/subscriptions/{m.group(1)}" and r["SubAccountName"] == m.group(1)
        assert r["ResourceName"] == r["x_Account"] and r["ResourceType"]
    assert all(r["ResourceId"] == r["SubAccountId"] == "" for r in rows if not r["ResourceName"])


def test_focus_12_nullability_the_validator_does_not_know(example):
    """FOCUS 1.2 (FOCUS_Spec tag v1.2, specification/columns/{resourcename,resourcetype,subaccountname}.md):
    ResourceName and ResourceType are null exactly when ResourceId is; SubAccountName exactly when SubAccountId is."""
    for r in example[2]:
        assert bool(r["ResourceName"]) == bool(r["ResourceType"]) == bool(r["ResourceId"]), r
        assert bool(r["SubAccountName"]) == bool(r["SubAccountId"]), r


def test_an_account_no_input_identifies_gets_a_null_resource_id_never_a_bare_name(registry, tmp_path):
    policy = tmp_path / "chat.xml"
    policy.write_text('<policies><inbound><base /><llm-emit-token-metric namespace="u"><dimension name="Team" '
                      'value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team&quot;, &quot;&quot;))" />'
                      "</llm-emit-token-metric></inbound></policies>")
    day = dt.date(2026, 11, 1)
    common = {"model": "gpt-4o", "model_version": "2024-08-06", "deployment": "gpt-4o", "deployment_type": "global",
              "region": "eastus", "account": "acc"}
    rows = (UsageRow(day, dimension="Team", consumer="a", input_tokens=800, output_tokens=200, **common),
            UsageRow(day, source=PLATFORM, input_tokens=1_000, output_tokens=250, **common))
    estate = replace(load_paths([str(policy)]), usage=UsageData(rows=rows, window=(day, day), origin="test"))
    out = list(csv.DictReader(io.StringIO(render_focus(run_audit(estate, registry, Settings(llm_include=("*",))),
                                                       registry))))
    assert {r["x_Account"] for r in out} == {"acc"}
    assert {(r["ResourceId"], r["ResourceName"], r["ResourceType"], r["SubAccountId"]) for r in out} == {("", "", "", "")}
