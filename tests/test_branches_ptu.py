"""PTU deployments priced by their reserved hours, branch by branch, against figures worked out here (issue 29).

Provisioned deployments are "billed hourly based on the number of deployed PTUs" used or not
(https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding): a day
costs PTUs × 24 × the PTU-hour price, split by token share on days with traffic, a line of its own on days without.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aoai_audit.usage.ptu import PtuPrice, find_ptu, ptu_from_data, ptu_from_retail_items, window_hours
from aoai_audit.usage.ptu_money import PROVISIONED_TYPE, PtuDeployment, price_ptu
from aoai_audit.usage.tally import CONSUMER, UNKNOWN, Line

D1, D2, D3 = (dt.date(2026, 11, d) for d in (1, 2, 3))
PRICES = (PtuPrice("global", "eastus", Decimal(2), "2026-11-01"), PtuPrice("global", "*", Decimal(3)),
          PtuPrice("regional", "*", Decimal(1)))


def line(day: dt.date, bucket: str, deployment: str, input_tokens: int, output_tokens: int) -> Line:
    return Line(day, bucket, "team" if bucket == CONSUMER else "", "Team", "acc", deployment, "gpt-4o", "",
                PROVISIONED_TYPE, "eastus", Decimal(input_tokens), Decimal(0), Decimal(output_tokens), money=None)


def test_a_day_costs_ptus_times_24_hours_split_by_token_share_and_an_idle_day_is_unused():
    dep = PtuDeployment("acc", "ptu", "GlobalProvisionedManaged", "eastus", 10, "gpt-4o", "2024-11-20")
    team, unknown, later = line(D1, CONSUMER, "ptu", 200, 100), line(D1, UNKNOWN, "ptu", 100, 0), line(D3, CONSUMER,
                                                                                                    "PTU", 50, 0)
    got = price_ptu([team, unknown, later], (dep,), PRICES, (D1, D3))
    # 10 PTU × 24 h × 2 = 480 a day: 300 of D1's 400 tokens → 360, 100 → 120; D3 all 480; D2 unused 480
    assert [(ln.day, share) for ln, share in got.priced] == [(D1, 360), (D1, 120), (D3, 480)]
    assert (team.money, unknown.money, later.money) == (360, 120, 480)
    assert [(u.day, u.money) for u in got.unused] == [(D2, 480)] and got.reserved == 1440
    assert got.notes == ["provisioned deployment 'ptu' of account 'acc': 10 PTU reserved for 72 hours at 2 per "
                         "PTU-hour (as of 2026-11-01) = 1440.00, billed used or not; split by token share on the 2 "
                         "day(s) it served tokens; 1 day(s) no team used it (unused PTU capacity)"]


def test_a_deployment_without_a_ptu_count_or_a_price_stays_unpriced_and_says_why():
    no_count = PtuDeployment("acc", "ptu-x", "ProvisionedManaged", "westeurope", None)
    no_price = PtuDeployment("acc", "ptu-y", "DataZoneProvisionedManaged", "", 5, "gpt-4o")
    its = line(D1, CONSUMER, "ptu-x", 7, 3)
    got = price_ptu([its, line(D1, CONSUMER, "ptu-y", 1, 1)], (no_count, no_price), PRICES, (D1, D1))
    assert [(u.model, u.tokens) for u in got.unpriced] == [("ptu-x", 10), ("gpt-4o", 2)]
    assert got.unpriced[0].reason == ("provisioned deployment 'ptu-x' of account 'acc' (unknown PTU) is billed per "
                                      "reserved PTU-hour, not per token; its PTU count (sku.capacity) was not read, "
                                      "so its reserved hours cannot be priced")
    assert its.basis == ("not priced: provisioned (? PTU), its PTU count (sku.capacity) was not read, so its reserved "
                         "hours cannot be priced") and its.money is None
    assert got.unpriced[1].reason.endswith("(5 PTU) is billed per reserved PTU-hour, not per token; no PTU-hour price "
                                           "for DataZoneProvisionedManaged (datazone) in its region: add a `ptu:` row "
                                           "(deployment_type, region, hourly) to a --prices file")
    assert got.reserved == 0 and not got.priced and not got.unused


def test_the_regions_own_price_comes_before_the_any_region_row():
    assert find_ptu(PRICES, "GlobalProvisionedManaged", "East US").hourly == 2
    assert find_ptu(PRICES, "GlobalProvisionedManaged", "westeurope").hourly == 3
    assert find_ptu(PRICES, "GlobalStandard", "eastus") is None
    assert find_ptu(PRICES, "DataZoneProvisionedManaged", "eastus") is None


def test_a_window_of_whole_days_in_hours():
    assert (window_hours(D1, D1), window_hours(D1, D3), window_hours(D3, D1)) == (24, 72, 0)


def test_a_price_file_row_without_a_region_prices_any_region():
    (row,) = ptu_from_data([{"deployment_type": "GlobalProvisionedManaged", "hourly": "1.5"}], "p.yaml")
    assert (row.scope, row.region, row.hourly) == ("global", "*", Decimal("1.5"))


def test_retail_rows_hourly_consumption_only_named_by_meter_or_sku():
    items = [
        {"type": "Reservation", "unitOfMeasure": "1 Hour", "skuName": "Provisioned Managed Regional", "retailPrice": 9},
        {"unitOfMeasure": "1/Month", "skuName": "Provisioned Managed Global", "retailPrice": 9},
        {"type": "Consumption", "unitOfMeasure": "1 Hour", "skuName": "Provisioned Managed Global", "retailPrice": 1,
         "armRegionName": "EastUS"},
        {"type": "Consumption", "unitOfMeasure": "1 Hour", "meterName": "Provisioned Managed Data Zone Units",
         "retailPrice": 2},
    ]
    got = ptu_from_retail_items(items, "2026-11-01")
    assert [(p.scope, p.region, p.hourly, p.source) for p in got] == [
        ("datazone", "*", 2, "Retail Prices API 2026-11-01: Provisioned Managed Data Zone Units"),
        ("global", "eastus", 1, "Retail Prices API 2026-11-01: Provisioned Managed Global"),
    ]
