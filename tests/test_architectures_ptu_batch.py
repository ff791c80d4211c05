"""Issue 23, PTU and batch in the money, and the situations beside them (tests/fixtures/architectures).

Figures are computed by hand in each fixture's README and written here: a PTU deployment costs its reserved hours
(5 PTU × 24 h × 2.00 USD = 240.00 a day), split by the day's token share, with the days no team used it as a line
of its own; batch tokens are priced at batch rates and never price a live gateway call.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

from test_architectures import ARCH, NONE, UNUSED, scan

PTU = ARCH / "ptu-shared-metered"


def _doc(target: Path) -> dict:
    return json.loads(scan(target)[1])


def _focus(target: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(scan(target, fmt="focus")[1])))


def test_ptu_teams_pay_their_share_of_the_reserved_hours_of_the_days_they_used():
    doc = _doc(PTU)
    teams = {c["consumer"]: c["money"] for c in doc["usage"]["consumers"]}
    assert teams == {"alpha": 276.00, "beta": 156.00}  # 180 + 96; 60 + 96
    assert doc["usage"]["platform"]["money"] == 720.00  # 5 PTU × 72 h × 2.00, used or not
    assert not [f for f in doc["findings"] if f["rule_id"] == "KQ004"]  # PTU tokens are never asked a token price


def test_the_unused_ptu_capacity_is_a_line_of_its_own_in_every_format():
    for fmt in ("text", "md", "html", "junit"):
        flat = " ".join(scan(PTU, fmt=fmt)[1].replace("\\", "").split())  # Markdown escapes parentheses
        assert UNUSED in flat, fmt
        assert "240.00" in flat, fmt
    rows = _focus(PTU)
    unused = [r for r in rows if r["x_Bucket"] == "ptu-unused"]
    assert [(r["ChargePeriodStart"], r["BilledCost"], r["x_Deployment"]) for r in unused] == [
        ("2026-11-02T00:00:00Z", "240.00", "ptu")]
    assert unused[0]["x_AttributionPath"] == UNUSED
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("720.00")
    used = {(r["ChargePeriodStart"][:10], r["x_Consumer"]): r["BilledCost"] for r in rows if r["x_Bucket"] == "consumer"}
    assert used == {("2026-11-01", "alpha"): "180.00", ("2026-11-01", "beta"): "60.00",
                    ("2026-11-03", "alpha"): "96.00", ("2026-11-03", "beta"): "96.00"}
    assert all("reserved PTU-hours" in r["x_PricingBasis"] for r in rows if r["x_Bucket"] != "ptu-unused")


def test_focus_prices_ptu_rows_in_ptu_hours_and_consumes_tokens():
    """pricingquantity.md / pricingunit.md: the quantity the price list rates. A PTU deployment is rated per PTU-hour
    (5 PTU × 24 h a day), so its rows' PricingQuantity is PTU-hours in "Hours"; ConsumedQuantity stays the tokens.
    By hand (README): day 1 alpha 120 × 3/4 = 90, beta 30; day 2 unused 120; day 3 alpha 120 × 1/2.5 = 48, beta 48,
    direct 24; together 360 = 5 PTU × 72 h; each row's cost is its hours × 2.00."""
    rows = _focus(PTU)
    hours = {(r["ChargePeriodStart"][:10], r["x_Bucket"], r["x_Consumer"]): Decimal(r["PricingQuantity"]) for r in rows}
    assert hours == {("2026-11-01", "consumer", "alpha"): 90, ("2026-11-01", "consumer", "beta"): 30,
                     ("2026-11-02", "ptu-unused", ""): 120, ("2026-11-03", "consumer", "alpha"): 48,
                     ("2026-11-03", "consumer", "beta"): 48, ("2026-11-03", "unmetered", ""): 24}
    assert {r["PricingUnit"] for r in rows} == {"Hours"} and {r["ConsumedUnit"] for r in rows} == {"Tokens"}
    assert all(Decimal(r["BilledCost"]) == Decimal(r["PricingQuantity"]) * 2 for r in rows)
    consumed = {(r["ChargePeriodStart"][:10], r["x_Consumer"]): Decimal(r["ConsumedQuantity"]) for r in rows
                if r["x_Bucket"] == "consumer"}
    assert consumed[("2026-11-01", "alpha")] == 3_000_000 and consumed[("2026-11-03", "beta")] == 1_000_000


def _edit(tmp_path: Path, change) -> Path:
    target = tmp_path / PTU.name
    shutil.copytree(PTU, target)
    doc = json.loads((target / "main.json").read_text())
    change(doc["resources"])
    (target / "main.json").write_text(json.dumps(doc))
    return target


def test_a_ptu_deployment_with_no_price_for_its_region_is_unpriced_with_its_ptu_count(tmp_path):
    """No shipped PTU-hour price in brazilsouth: nothing of it is money, never USD 0.00 as if free."""
    def move(res):
        res["acct"]["location"] = "brazilsouth"
    doc = _doc(_edit(tmp_path, move))
    (kq004,) = [f for f in doc["findings"] if f["rule_id"] == "KQ004"]
    assert "5 PTU" in kq004["message"] and "ptu:" in kq004["message"] and "brazilsouth" in kq004["message"]
    assert "per reserved PTU-hour, not per token" in kq004["message"]
    money = doc["attribution"]["money"]
    assert all(b["money"] == 0 for b in money["buckets"])
    assert money["total"]["unpriced_tokens"] == 6_500_000  # every token counted as unpriced, not as free
    assert UNUSED not in {b["bucket"] for b in money["buckets"]}  # unknown idle cost is not stated as 0.00
    assert "`ptu:`" in kq004["fix"] and "per-token" not in kq004["message"]


def test_a_ptu_deployment_whose_ptu_count_was_not_read_is_unpriced(tmp_path):
    def no_capacity(res):
        del res["acctptu"]["sku"]["capacity"]
    doc = _doc(_edit(tmp_path, no_capacity))
    (kq004,) = [f for f in doc["findings"] if f["rule_id"] == "KQ004"]
    assert "unknown PTU" in kq004["message"] and "capacity" in kq004["message"]
    assert doc["usage"]["platform"]["unpriced_tokens"] == 6_500_000


def test_batch_tokens_are_priced_at_batch_rates_and_shown_as_such():
    rows = _focus(ARCH / "batch-beside-standard")
    bulk = [r for r in rows if r["x_Deployment"] == "bulk"]
    assert [(r["BilledCost"], r["x_Tokens"]) for r in bulk] == [("15.00", "6000000.0")]  # 4M × 1.25 + 2M × 5.00
    assert "batch rates" in bulk[0]["x_PricingBasis"] and bulk[0]["x_CostCentre"] == "research"


def test_batch_never_enters_the_mix_that_prices_live_gateway_calls():
    """The token metrics carry no model: each team is priced by the live deployments' mix, 7.50 each; with the
    batch deployment in the mix they would come out 5.00."""
    doc = _doc(ARCH / "batch-beside-standard")
    assert {c["consumer"]: c["money"] for c in doc["usage"]["consumers"]} == {"alpha": 7.50, "beta": 7.50}
    rows = _focus(ARCH / "batch-beside-standard")
    assert {r["x_Deployment"] for r in rows if r["x_Bucket"] == "consumer"} == {"chat"}


def test_an_account_with_no_owner_carries_its_cost():
    doc = _doc(ARCH / "no-owner")
    (ow001,) = [f for f in doc["findings"] if f["rule_id"] == "OW001"]
    assert ow001["resource"].endswith("/accounts/acct-orphan") or "acct-orphan" in ow001["resource"]
    assert ow001["money"] == {"amount": 1.50, "currency": "USD"} and ow001["severity"] == "high"
    assert {b["bucket"]: b["tokens"] for b in doc["attribution"]["money"]["buckets"]}[NONE] == 7_000_000


def test_a_mixed_estate_names_its_parts_and_each_path_its_money():
    doc = _doc(ARCH / "mixed")
    attribution = doc["attribution"]
    assert attribution["architecture"] == "mixed"
    assert attribution["parts"] == ["shared APIM with a token metric", "per-team accounts (tags) without a gateway"]
    paths = {d["account"]: d["path"] for d in attribution["deployments"]}
    assert paths == {"acct-alpha": "isolated by resource", "acct-shared": "metered at a gateway",
                     "acct-orphan": "no known owner"}
    (ow001,) = [f for f in doc["findings"] if f["rule_id"] == "OW001"]
    assert "acct-orphan" in ow001["resource"] and ow001["money"]["amount"] == 0.60
