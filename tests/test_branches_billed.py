"""The Cost Management query the live path sends and what it reads back (issue 29).

The live tests send this body through the real SDK pipeline to tests/fakearm.py, which refuses what the service
refuses (a missing dataset, a function other than Sum, a Custom timeframe without from and to, a ResourceType
filter it does not match); this pins the one choice the fake cannot see: one total per resource over the window.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aoai_audit.usage.billed import _amount, _rows, cost_query


def test_the_query_asks_one_actual_cost_total_per_account_over_the_window():
    body = cost_query(dt.date(2026, 10, 1), dt.date(2026, 11, 30))
    # granularity None: one row per resource for the whole period, as in the spec's example
    # (azure-rest-api-specs cost-management/.../stable/2023-03-01/examples/SubscriptionQueryGrouping.json)
    assert body["dataset"]["granularity"] == "None"
    assert (body["type"], body["timeframe"]) == ("ActualCost", "Custom")
    assert body["timePeriod"] == {"from": "2026-10-01T00:00:00Z", "to": "2026-11-30T23:59:59Z"}


def test_rows_are_read_by_column_name_and_a_nameless_column_is_kept_apart():
    body = {"properties": {"columns": [{"name": "Cost"}, {"type": "String"}, {"name": "ResourceId"}],
                           "rows": [[1.5, "x", "/r"], "not a row"]}}
    assert _rows(body) == [{"Cost": 1.5, "": "x", "ResourceId": "/r"}]


@pytest.mark.parametrize("body", [None, {}, {"properties": []}, {"properties": {"rows": []}}])
def test_a_result_without_columns_is_malformed(body):
    with pytest.raises(ValueError, match="malformed Cost Management query result"):
        _rows(body)


@pytest.mark.parametrize(("value", "amount"), [(12000.25, Decimal("12000.25")), ("0.10", Decimal("0.10")),
                                               (None, Decimal(0))])
def test_amounts_are_decimals_of_the_number_as_written(value, amount):
    assert _amount(value) == amount


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity"])
def test_a_cost_that_is_not_a_finite_number_is_an_error(value):
    with pytest.raises(ValueError, match="malformed cost"):
        _amount(value)
