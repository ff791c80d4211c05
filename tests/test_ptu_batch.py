"""PTU deployments cost reserved hours; batch deployments have their own rates and never price live calls."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest

from aoai_audit.estate import AiAccount, Deployment, Estate
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import (
    PriceFileError,
    deployment_type,
    load_prices,
    parse_meter,
    shipped_prices,
    table_from_data,
    table_from_retail_items,
    table_to_data,
)
from aoai_audit.usage.ptu import ptu_cost, window_hours
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.skus import classify_sku, is_batch, is_provisioned

D1 = dt.date(2026, 11, 2)
ACCOUNT = "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/a"


@pytest.mark.parametrize(("sku", "billing", "scope", "price_type"), [
    ("GlobalStandard", "tokens", "global", "global"),
    ("DataZoneStandard", "tokens", "datazone", "datazone"),
    ("Standard", "tokens", "regional", "regional"),
    ("GlobalBatch", "batch", "global", "batch"),
    ("DataZoneBatch", "batch", "datazone", "datazone-batch"),
    ("GlobalProvisionedManaged", "provisioned", "global", ""),
    ("DataZoneProvisionedManaged", "provisioned", "datazone", ""),
    ("ProvisionedManaged", "provisioned", "regional", ""),
])
def test_each_deployment_sku_is_billed_its_own_way(sku, billing, scope, price_type):
    cls = classify_sku(sku)
    assert (cls.billing, cls.scope, cls.price_type) == (billing, scope, price_type)
    assert is_batch(sku) == (billing == "batch") and is_provisioned(sku) == (billing == "provisioned")
    assert deployment_type(sku) == (price_type or "provisioned")
    assert classify_sku("SomeFutureSku") is None  # never guessed


def test_batch_deployments_never_price_live_gateway_calls():
    """Account `a` served live calls from `live` (gpt-4o, global standard: 1M in, 1M out) and batch jobs from
    `bulk` (gpt-4o, global batch: 3M in, 3M out). The team's 1M in + 1M out at the gateway carry no model, so they
    are priced by the account's served mix — of live deployments only: 1 × 2.50 + 1 × 10.00 = 12.50, exactly.
    With the batch deployment in the mix they came out 7.8125 (37.5% low). The platform total prices the batch
    tokens at batch rates: 12.50 + 3 × 1.25 + 3 × 5.00 = 31.25; what the gateway did not see is 18.75."""
    account = AiAccount(ACCOUNT, "a", location="eastus", deployments=(
        Deployment("live", "gpt-4o", "2024-11-20", "GlobalStandard"),
        Deployment("bulk", "gpt-4o", "2024-11-20", "GlobalBatch")))
    rows = (UsageRow(D1, consumer="research", dimension="Team", service="svc", api="chat",
                     input_tokens=1_000_000, output_tokens=1_000_000),
            UsageRow(D1, source="platform", account="a", deployment="live", input_tokens=1_000_000,
                     output_tokens=1_000_000),
            UsageRow(D1, source="platform", account="a", deployment="bulk", input_tokens=3_000_000,
                     output_tokens=3_000_000))
    u = score_usage(UsageData(rows, (D1, D1), "test"), Estate(accounts=(account,)), shipped_prices(),
                    api_accounts={("svc", "chat"): frozenset({ACCOUNT.lower()})})
    (team,) = u.consumers
    assert (team.tally.money, team.tally.low, team.tally.high) == (Decimal("12.50"),) * 3
    assert {ln.deployment for ln in u.lines if ln.bucket == "consumer"} == {"live"}
    assert u.platform.money == Decimal("31.25")
    assert u.unmetered.money == Decimal("18.75") and u.unmetered.tokens == 6_000_000
    assert not u.unpriced


def test_a_ptu_deployment_costs_its_reserved_hours_used_or_not():
    prices = shipped_prices()
    november = window_hours(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert november == 720
    cost, price = ptu_cost(prices.ptu, "ProvisionedManaged", "East US", 50, november)
    assert cost == Decimal("72000.00") and price.hourly == Decimal("2.00") and price.source  # 50 × 720 × 2.00
    cost, _ = ptu_cost(prices.ptu, "GlobalProvisionedManaged", "swedencentral", 15, 24)
    assert cost == Decimal("360.00")  # 15 × 24 × 1.00
    cost, _ = ptu_cost(prices.ptu, "DataZoneProvisionedManaged", "eastus", 4, 730)
    assert cost == Decimal("3212.00")  # the figure the source lists: 4 PTU × 730 h × 1.10
    assert ptu_cost(prices.ptu, "ProvisionedManaged", "brazilsouth", 50, 24) is None  # no listed price: unknown
    assert ptu_cost(prices.ptu, "ProvisionedManaged", "eastus", None, 24) is None  # PTUs not read: unknown
    assert ptu_cost(prices.ptu, "GlobalStandard", "eastus", 50, 24) is None  # not provisioned


def test_a_reserved_ptu_price_overrides_the_hourly_list_price(tmp_path):
    own = tmp_path / "prices.yaml"
    own.write_text("prices: []\nptu:\n  - {deployment_type: ProvisionedManaged, region: eastus, hourly: '1.50'}\n")
    table = shipped_prices().overridden_by(load_prices(str(own)))
    assert ptu_cost(table.ptu, "ProvisionedManaged", "eastus", 10, 10)[0] == Decimal("150.00")
    assert ptu_cost(table.ptu, "GlobalProvisionedManaged", "eastus", 10, 10)[0] == Decimal("100.00")  # shipped kept
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices: []\nptu:\n  - {deployment_type: GlobalStandard, region: eastus, hourly: '1'}\n")
    with pytest.raises(PriceFileError, match=r"bad.yaml: ptu\[0\]: deployment_type must be a provisioned SKU"):
        load_prices(str(bad))


def test_every_shipped_ptu_and_batch_row_is_dated_and_sourced():
    data = json.loads(resources.files("aoai_audit").joinpath("data/prices.json").read_text(encoding="utf-8"))
    assert data["ptu"] and all(r["as_of"] and "Retail Prices API" in r["source"] for r in data["ptu"])
    batch = [r for r in data["prices"] if r["deployment_type"] in ("batch", "datazone-batch")]
    assert batch and all("Batch" in r["source"] and "Retail Prices API" in r["source"] for r in batch)
    table = shipped_prices()
    for row in batch:  # half the global standard rate of the same model version, as the sources list them
        standard = table.find(row["model"], row["version"], "global", "eastus")
        assert Decimal(row["input"]) * 2 == standard.input and Decimal(row["output"]) * 2 == standard.output


def test_retail_meters_for_batch_and_ptu_are_read():
    assert parse_meter("gpt 4.1 Batch Inp glbl Tokens") == ("gpt-4.1", "", "batch", "input", False)
    assert parse_meter("o3 mini 0131 Batch Outp Data Zone Tokens") == ("o3-mini", "0131", "datazone-batch", "output",
                                                                        False)
    items = [
        {"type": "Consumption", "skuName": "Provisioned Managed Data Zone", "meterName": "Provisioned Managed Data "
         "Zone Unit", "unitOfMeasure": "1 Hour", "retailPrice": 1.1, "armRegionName": "eastus"},
        {"type": "Reservation", "skuName": "Provisioned Managed Global", "meterName": "Provisioned Managed Global "
         "Unit", "unitOfMeasure": "1 Hour", "retailPrice": 260, "armRegionName": "eastus"},
        {"type": "Consumption", "skuName": "gpt 4o 1120 Inp glbl", "meterName": "gpt 4o 1120 Inp glbl Tokens",
         "unitOfMeasure": "1K", "retailPrice": 0.0025, "armRegionName": "eastus"},
        {"type": "Consumption", "skuName": "gpt 4o 1120 Outp glbl", "meterName": "gpt 4o 1120 Outp glbl Tokens",
         "unitOfMeasure": "1K", "retailPrice": 0.01, "armRegionName": "eastus"},
    ]
    table = table_from_retail_items(items, "2026-12-01")
    assert [(p.scope, p.region, p.hourly) for p in table.ptu] == [("datazone", "eastus", Decimal("1.1"))]
    again = table_from_data(table_to_data(table), "refreshed.json")  # what `prices refresh` writes reads back
    assert again.ptu == tuple(p.__class__(p.scope, p.region, p.hourly, p.as_of, p.source) for p in table.ptu)
    assert again.find("gpt-4o", "1120", "global", "eastus").input == Decimal("2.5")
