"""Usage and money bounds: one currency per run, and every usage value range-checked on read (one line naming
the file and the row), so a hostile export is a usage error, never an internal error or a wrong amount."""

from __future__ import annotations

import json

import pytest

from aoai_audit.usage.files import UsageFileError, load_usage_file
from aoai_audit.usage.prices import PriceFileError, load_prices, shipped_prices

HEAD = "day,dimension,consumer,api,input_tokens,output_tokens,total_tokens,source\n"


def test_an_override_in_another_currency_is_refused_naming_both_sources(tmp_path):
    eur = tmp_path / "eur.yaml"
    eur.write_text("currency: eur\nprices:\n  - {model: gpt-4o, input: '2.10', output: '8.40'}\n")
    with pytest.raises(PriceFileError) as err:
        shipped_prices().overridden_by(load_prices(str(eur)))
    assert str(eur) in str(err.value) and "aoai_audit/data/prices.json" in str(err.value)
    assert "EUR" in str(err.value) and "USD" in str(err.value) and "\n" not in str(err.value)


def test_a_complete_table_in_another_currency_prices_the_run_alone(tmp_path):
    eur = tmp_path / "eur.yaml"
    eur.write_text("currency: EUR\nreplace_shipped: true\nprices:\n  - {model: gpt-4o, input: '2.10', output: '8.40'}\n")
    table = shipped_prices().overridden_by(load_prices(str(eur)))
    assert table.currency == "EUR" and [p.model for p in table.prices] == ["gpt-4o"]
    assert table.find("gpt-4o-mini", "", "global", "eastus") is None  # unpriced (KQ004), never a USD price


def test_same_currency_overrides_merge(tmp_path):
    usd = tmp_path / "usd.json"
    usd.write_text(json.dumps({"currency": "USD", "prices": [{"model": "gpt-4o", "input": "1", "output": "2"}]}))
    table = shipped_prices().overridden_by(load_prices(str(usd)))
    assert table.currency == "USD" and len(table.prices) > 1


@pytest.mark.parametrize("row, said", [
    ("2026-11-01,Team,a,chat,1e24,1,1e24,gateway", "over 1e+15"),
    ("2026-11-01,Team,a,chat,inf,1,1,gateway", "non-negative number"),
    ("2026-11-01,Team,a,chat,nan,1,1,gateway", "non-negative number"),
    ("9999-12-31,Team,a,chat,1,1,2,gateway", "outside 2000-2099"),
    ("0001-01-01,Team,a,chat,1,1,2,gateway", "outside 2000-2099"),
])
def test_usage_values_are_range_checked_with_file_and_row(tmp_path, row, said):
    usage = tmp_path / "usage.csv"
    usage.write_text(HEAD + "2026-11-01,Team,b,chat,1,1,2,gateway\n" + row + "\n")
    with pytest.raises(UsageFileError) as err:
        load_usage_file(str(usage))
    assert str(err.value).startswith(f"{usage}:3: ") and said in str(err.value)


@pytest.mark.parametrize("doc, said", [
    ({"timespan": "x", "value": [{"name": {"value": "InputTokens"}, "timeseries": 5}]}, "value[0].timeseries is a number"),
    ({"timespan": "x", "value": [{"name": {"value": "InputTokens"}, "timeseries": [{"data": "x"}]}]},
     "timeseries[0].data is a string"),
    ({"value": [{"id": "/s/accounts/a/deployments/d", "sku": "Standard"}]}, "value[0].sku is a string"),
    ({"tables": [{"columns": [{"name": "day"}], "rows": 3}]}, "tables[0]: columns and rows must be lists"),
    ({"tables": ["x"]}, "tables[0]: expected an object"),
])
def test_rest_bodies_of_the_wrong_shape_are_usage_errors(tmp_path, doc, said):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageFileError) as err:
        load_usage_file(str(path))
    assert str(path) in str(err.value) and said in str(err.value)
