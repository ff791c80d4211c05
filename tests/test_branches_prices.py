"""The price table, branch by branch: meter names, units and files, against prices written in the test (issue 29)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aoai_audit.usage.prices import (
    PriceFileError,
    RefreshError,
    _allowed_endpoint,
    deployment_type,
    load_prices,
    model_key,
    parse_meter,
    table_from_data,
    table_from_retail_items,
    table_to_data,
)


@pytest.mark.parametrize(("meter", "parsed"), [
    ("gpt-4o-0806-Inp-glbl", ("gpt-4o", "0806", "global", "input", False)),
    ("gpt 4o 1120 cached Inp glbl", ("gpt-4o", "1120", "global", "input", True)),
    ("cchd gpt 4o Inp Gl", ("gpt-4o", "", "global", "input", True)),
    ("gpt 4.1 mini Outp glbl", ("gpt-4.1-mini", "", "global", "output", False)),
    ("o3 mini 0131 input DZ", ("o3-mini", "0131", "datazone", "input", False)),
    ("o3 Inpt Data Zone 1M Tokens", ("o3", "", "datazone", "input", False)),
    ("gpt 4.5 0227 opt rgnl", ("gpt-4.5", "0227", "regional", "output", False)),
    ("gpt-4-8K-Batch-Inp-glbl Tokens", ("gpt-4-8k", "", "batch", "input", False)),
    ("text embedding 3 small DZ", ("text-embedding-3-small", "", "datazone", "input", False)),
    ("gpt-4o-realtime-Inp-glbl", None),  # not a text token price
    ("gpt-4o Inp", None),  # no deployment type
    ("0806 Inp glbl", None),  # no model
    ("gpt-4o glbl", None),  # no direction, not an embedding
    ("glbl", None),
])
def test_parse_meter(meter, parsed):
    assert parse_meter(meter) == parsed


def item(meter, price, unit="1K", region="eastus", kind="Consumption", field="skuName"):
    return {field: meter, "retailPrice": price, "unitOfMeasure": unit, "armRegionName": region, "type": kind}


def test_retail_items_become_prices_per_million():
    table = table_from_retail_items([
        item("gpt-4o-Inp-glbl", 0.0025),           # 0.0025 per 1K = 2.5 per 1M
        item("gpt-4o-Outp-glbl", 0.01),            # 10 per 1M
        item("gpt-4o-cached-Inp-glbl", 1.25, unit="1M"),
        item("gpt-4o-Outp-glbl", 99, kind="Reservation"),  # not consumption: ignored
        item("gpt-4o-Inp-glbl", 7, unit="1 Hour", region="westus"),  # unknown unit: ignored
        item("text-embedding-3-small-glbl", 0.00002, field="meterName"),  # one direction, output free
        item("gpt-4o-mini-Inp-glbl", 0.1),         # no output price: no entry
    ], "2026-11-30")
    by = {(p.model, p.region): p for p in table.prices}
    assert set(by) == {("gpt-4o", "eastus"), ("text-embedding-3-small", "eastus")}
    gpt = by[("gpt-4o", "eastus")]
    assert (gpt.input, gpt.output, gpt.cached_input) == (Decimal("2.5"), Decimal("10"), Decimal("1.25"))
    emb = by[("text-embedding-3-small", "eastus")]
    assert (emb.input, emb.output, emb.cached_input) == (Decimal("0.02"), Decimal(0), None)
    assert table.as_of == "2026-11-30" and "gpt-4o-Inp-glbl" in gpt.source


def test_a_price_file_per_1k_is_scaled_to_per_1m(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"per": "1k", "currency": "EUR", "prices": [{"model": "GPT 4o", "input": 0.002, "output": 0.008,'
                    ' "cached_input": 0.001, "region": "EastUS", "deployment_type": "glbl"}]}')
    (p,) = load_prices(str(path)).prices
    assert (p.model, p.region, p.deployment_type) == ("gpt-4o", "eastus", "global")
    assert (p.input, p.output, p.cached_input) == (Decimal(2), Decimal(8), Decimal(1))
    assert load_prices(str(path)).currency == "EUR"


@pytest.mark.parametrize(("data", "says"), [
    ({"prices": [{"model": "m", "input": -1, "output": 1}]}, "prices[0].input: a price must be a non-negative"),
    ({"prices": [{"model": "m", "input": "x", "output": 1}]}, "prices[0].input: not a number"),
    ({"prices": [{"model": "m", "input": 1, "output": "Infinity"}]}, "prices[0].output: a price must be"),
    ({"per": "1G", "prices": []}, "`per` must be 1M or 1K"),
    ({"prices": [{"input": 1}]}, "prices[0]: needs at least model"),
    ({"prices": [{"model": "m", "input": 1, "output": 1, "deployment_type": "weird"}]}, "deployment_type must be"),
    ([], "expected a mapping with a `prices` list"),
])
def test_a_bad_price_file_names_the_entry(data, says):
    with pytest.raises(PriceFileError, match=None) as err:
        table_from_data(data, "p.yaml")
    assert str(err.value).startswith("p.yaml") and says in str(err.value)


def test_a_zero_price_is_a_price_and_model_keys_normalise():
    (p,) = table_from_data({"prices": [{"model": "m", "input": 0, "output": 0}]}, "p").prices
    assert p.input == 0 and p.region == "*"
    assert model_key("  GPT_4o  mini ") == "gpt-4o-mini"


def test_a_written_price_table_has_plain_numbers_and_reads_back_the_same(tmp_path):
    table = table_from_data({"prices": [{"model": "m", "input": 10, "output": "2.50", "cached_input": 100}]}, "p")
    data = table_to_data(table)
    (p,) = data["prices"]
    assert (p["input"], p["output"], p["cached_input"]) == ("10", "2.5", "100")
    assert table_from_data(data, "again").prices[0].input == Decimal(10)


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("https://prices.azure.com/api/retail/prices", True), ("http://127.0.0.1:8080/prices", True),
    ("http://localhost/prices", True), ("http://[::1]:9/prices", True), ("http://prices.azure.com/api", False),
    ("file:///etc/passwd", False), ("ftp://127.0.0.1/prices", False),
])
def test_the_retail_prices_endpoint_is_https_or_loopback_http(endpoint, allowed):
    if allowed:
        _allowed_endpoint(endpoint)
    else:
        with pytest.raises(RefreshError, match="must be an https URL"):
            _allowed_endpoint(endpoint)


@pytest.mark.parametrize(("written", "kind"), [
    ("gl", "global"), ("GLBL", "global"), ("dz", "datazone"), ("DZone", "datazone"), ("regnl", "regional"),
    ("rgnl", "regional"), ("Global Batch", "batch"), ("datazone_batch", "datazone-batch"), ("", ""),
])
def test_deployment_type_aliases(written, kind):
    assert deployment_type(written) == kind
