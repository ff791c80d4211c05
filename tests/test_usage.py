"""Usage and money: exported usage files, prices, cost centres, the unknown bucket, reconciliation, KQL."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest

from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.costcentres import CostCentreError, load_cost_centres
from aoai_audit.usage.files import UsageFileError, load_usage_file
from aoai_audit.usage.kql import build_queries
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import (
    PriceTable,
    load_prices,
    shipped_prices,
    table_from_retail_items,
)
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.tally import cents
from conftest import EXAMPLE, ROOT

USAGE = ROOT / "fixtures" / "example" / "usage.csv"
CENTRES = ROOT / "fixtures" / "example" / "cost-centres.yaml"
D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def example_usage() -> UsageData:
    data = load_usage_file(str(USAGE))
    for path in sorted((USAGE.parent / "platform").glob("*.json")):
        data = data.merge(load_usage_file(str(path)))
    return data


def example_result(registry, **settings):
    estate = replace(load_paths([str(EXAMPLE)]), usage=example_usage())
    return run_audit(estate, registry, Settings(cost_centres=load_cost_centres(str(CENTRES)), **settings))


def test_example_team_totals_plus_unknown_plus_unmetered_equal_the_platform_total(registry):
    u = example_result(registry).ctx.usage
    attributed = sum(c.tally.tokens for c in u.consumers)
    assert attributed + u.unknown.tokens + u.unmetered.tokens - u.over_metered.tokens == u.platform.tokens
    teams = sum((c.tally.money for c in u.consumers), Decimal(0))
    assert cents(teams + u.unknown.money + u.unmetered.money - u.over_metered.money) == cents(u.platform.money)
    # the token figures are the exported rows' own: no pricing step changes a token count
    assert {c.value: c.tally.tokens for c in u.consumers} == {
        "hr-portal-app": 3_700_000_000, "marketing": 2_900_000_000, "research": 1_600_000_000}
    # unknown: Team "" (1.25B), Team "unknown" (0.5B), assistants-legacy without a consumer dimension (0.75B)
    assert u.unknown.tokens == 2_500_000_000


def test_example_money_is_priced_by_what_each_backend_served(registry):
    """hr-copilot's backend is contoso-aoai-eus, whose only output-producing model is gpt-4o: its calls are
    priced at gpt-4o's rate exactly (2.0B in + 0.5B out on 11-01, 1.0B + 0.2B on 11-02):
    3.0B × 2.50 + 0.7B × 10.00 = 7,500 + 7,000 = 14,500.00 per 1M-token prices, no range."""
    u = example_result(registry).ctx.usage
    hr = next(c for c in u.consumers if c.value == "hr-portal-app")
    assert cents(hr.tally.money) == Decimal("14500.00") and hr.tally.low == hr.tally.high == hr.tally.money
    # chat-completions goes to a pool of both accounts: a point estimate with a range, and the report says so
    marketing = next(c for c in u.consumers if c.value == "marketing")
    assert marketing.tally.low < marketing.tally.money < marketing.tally.high
    assert any("served mix of the API's backend account(s)" in n for n in u.notes)
    assert all(ln.money is None or ln.money >= 0 for ln in u.lines)


def test_example_fires_each_kq_rule_with_its_figures(registry):
    result = example_result(registry)
    by_rule = {f.rule_id: f for f in result.findings if f.rule_id.startswith("KQ")}
    assert set(by_rule) == {"KQ001", "KQ002", "KQ003", "KQ004"}
    u = result.ctx.usage
    assert by_rule["KQ001"].tokens == u.unknown.tokens and by_rule["KQ001"].money.amount == float(cents(u.unknown.money))
    assert f"{u.unknown_share:.1%} of platform tokens" in by_rule["KQ001"].message
    assert by_rule["KQ002"].resource == "usage/consumers/Caller App/hr-portal-app"
    assert by_rule["KQ002"].money.amount == 14500.0
    assert by_rule["KQ003"].resource.startswith("usage/reconciliation/contoso-aoai-")
    assert "gpt-4o-realtime-preview" in by_rule["KQ004"].message
    assert all(f.location.path == str(USAGE) for f in by_rule.values())


def _rows(*rows: UsageRow) -> UsageData:
    return UsageData(rows=rows, window=(D1, D1), origin="test")


def test_unpriced_usage_is_kept_apart_not_zero():
    rows = _rows(UsageRow(D1, consumer="a", model="mystery-model", input_tokens=100, output_tokens=5),
                 UsageRow(D1, consumer="b", model="gpt-4o", model_version="2024-08-06", total_tokens=50))
    u = score_usage(rows, load_paths([str(EXAMPLE)]), shipped_prices())
    assert u.gateway.money == 0 and u.gateway.unpriced_tokens == 155
    reasons = {p.model: p.reason for p in u.unpriced}
    assert reasons["mystery-model"] == "no price in the table" and "only a total" in reasons["gpt-4o"]


def test_rows_without_a_model_are_priced_by_the_served_mix():
    rows = _rows(
        UsageRow(D1, consumer="a", input_tokens=1_000_000),
        UsageRow(D1, source="platform", model="gpt-4o", model_version="2024-08-06", deployment="d",
                 input_tokens=2_000_000),  # 2M × 2.50 = 5.00 → 2.50 per 1M
    )
    u = score_usage(rows, load_paths([str(EXAMPLE)]), shipped_prices())
    assert u.consumers[0].tally.money == Decimal("2.5") and any("served mix" in n for n in u.notes)


# ------------------------------------------------------------------------------------ files


def test_csv_json_and_log_analytics_exports_read_the_same(tmp_path):
    csv_data = load_usage_file(str(USAGE))
    as_json = [
        {"day": r.day.isoformat(), "source": r.source, "dimension": r.dimension, "consumer": r.consumer,
         "api": r.api, "product": r.product, "model": r.model, "model_version": r.model_version,
         "deployment": r.deployment, "deployment_type": r.deployment_type, "region": r.region, "account": r.account,
         "service": r.service, "input_tokens": r.input_tokens, "cached_input_tokens": r.cached_input_tokens,
         "output_tokens": r.output_tokens, "total_tokens": r.total_tokens, "streamed_tokens": r.streamed_tokens}
        for r in csv_data.rows
    ]
    (tmp_path / "u.json").write_text(json.dumps({"rows": as_json}))
    cols = list(as_json[0])
    (tmp_path / "la.json").write_text(json.dumps({"tables": [{"name": "PrimaryResult",
        "columns": [{"name": c, "type": "string"} for c in cols], "rows": [[r[c] for c in cols] for r in as_json]}]}))
    assert load_usage_file(str(tmp_path / "u.json")).rows == csv_data.rows
    assert load_usage_file(str(tmp_path / "la.json")).rows == csv_data.rows


@pytest.mark.parametrize(("text", "expected"), [
    ("day,input_tokens\n2026-11-01,10\nnot-a-day,5\n", "u.csv:3: day must be a date"),
    ("day,input_tokens\n2026-11-01,-4\n", "u.csv:2: input_tokens must be a non-negative number"),
    ("day,consumer\n2026-11-01,x\n", "u.csv:2: no token column"),
    ("day,source,total_tokens\n2026-11-01,billing,4\n", "source must be 'gateway' or 'platform'"),
    ("", "u.csv:1: empty CSV"),
])
def test_bad_usage_files_get_one_line_naming_file_and_line(tmp_path, text, expected):
    path = tmp_path / "u.csv"
    path.write_text(text)
    with pytest.raises(UsageFileError) as err:
        load_usage_file(str(path))
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_cli_reports_a_bad_usage_file_without_a_traceback(tmp_path):
    bad = tmp_path / "usage.json"
    bad.write_text('{"rows": [\n{"day": "2026-11-01", "input_tokens": 1},\n')
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(EXAMPLE), "--usage", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:3: invalid JSON" in proc.stderr


# ------------------------------------------------------------------------------------ prices


def test_retail_items_mix_1k_and_1m_units_per_row():
    items = [
        {"skuName": "gpt-4o-0806-Inp-glbl", "retailPrice": 0.0025, "unitOfMeasure": "1K", "armRegionName": "eastus",
         "type": "Consumption"},
        {"skuName": "gpt-4o-0806-Outp-glbl", "retailPrice": 10, "unitOfMeasure": "1M", "armRegionName": "eastus",
         "type": "Consumption"},
        {"skuName": "gpt-4o-0806-Inp-glbl", "retailPrice": 1.0, "unitOfMeasure": "1K", "type": "Reservation"},
    ]
    table = table_from_retail_items(items, "2026-11-25")
    (price,) = table.prices
    assert (price.input, price.output) == (Decimal("2.5000"), Decimal("10"))
    assert table.find("gpt-4o", "2024-08-06", "GlobalStandard", "eastus") is price
    assert table.find("gpt-4o", "2024-08-06", "GlobalStandard", "westus") is None


def test_override_file_wins_over_the_shipped_table(tmp_path):
    override = tmp_path / "negotiated.yaml"
    override.write_text("currency: USD\nper: 1M\nprices:\n  - {model: gpt-4o, version: 2024-08-06, input: '2.00', output: '8'}\n")
    table = shipped_prices().overridden_by(load_prices(str(override)))
    assert table.find("gpt-4o", "0806", "global", "eastus").input == Decimal("2.00")
    assert table.find("gpt-4o-mini", "2024-07-18", "global", "").input == Decimal("0.15")


# ------------------------------------------------------------------------------------ cost centres


def test_cost_centre_csv_and_yaml_agree(tmp_path):
    csv_path = tmp_path / "cc.csv"
    csv_path.write_text("kind,value,cost_centre,owner\nconsumer,marketing,CC-4100,m@x\nproduct,team-*,CC-9,p@x\n")
    cc = load_cost_centres(str(csv_path))
    assert cc.lookup(UsageRow(D1, dimension="Team", consumer="Marketing")).cost_centre == "CC-4100"
    assert cc.lookup(UsageRow(D1, dimension="Team", consumer="x", product="team-research")).cost_centre == "CC-9"
    assert cc.lookup(UsageRow(D1, dimension="Team", consumer="x")) is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("cost_centres:\n  - consumer: a\n    product: b\n    cost_centre: X\n")
    with pytest.raises(CostCentreError, match=r"bad.yaml: cost_centres\[0\]: give exactly one of"):
        load_cost_centres(str(bad))


# ------------------------------------------------------------------------------------ KQL


def test_queries_follow_the_dimensions_the_policies_configure():
    ctx = build_context(load_paths([str(EXAMPLE)]), Settings())
    queries = {q.title: q for q in build_queries(ctx.estate, ctx.llm_apis, D1, D2)}
    llm = queries["Gateway token metrics · contoso-apim"]  # one query for both namespaces: counted once
    assert 'tostring(Properties["Team"])' in llm.text and 'tostring(Properties["Caller App"])' in llm.text
    assert 'api in~ ("chat-completions"), "Team"' in llm.text
    assert "summarize" in llm.text and "let to_day = datetime(2026-11-03)" in llm.text  # inclusive end day
    assert llm.target.endswith("/components/contoso-appi")


def test_kql_command_prints_the_queries_for_an_estate():
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "kql", str(EXAMPLE), "--from", "2026-11-01",
                           "--to", "2026-11-30"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\nAppMetrics\n") == 1 and "let from_day = datetime(2026-11-01)" in proc.stdout
    assert "--usage" in proc.stderr


def test_example_usage_report_sections(registry):
    from aoai_audit.report.html import render_html
    from aoai_audit.report.json_report import result_dict

    result = example_result(registry)
    doc = result_dict(result, registry)
    u = result.ctx.usage
    assert doc["usage"]["unknown"]["money"] == float(cents(u.unknown.money))
    assert doc["usage"]["unmetered"]["tokens"] == u.unmetered.tokens
    html = render_html(result, registry)
    assert "Usage and money, 2026-11-01 to 2026-11-02" in html and "<svg class=\"chart\"" in html
    assert "USD 14,500.00" in html and "CC-4100" in html  # hr-portal-app, priced at gpt-4o's rate
    table = PriceTable(())  # an empty table: everything is unpriced, nothing is zero
    u = score_usage(example_usage(), result.estate, table)
    assert u.gateway.money == 0 and u.gateway.unpriced_tokens == u.gateway.tokens


def test_attribution_chain_charges_usage_findings_to_the_apis_the_usage_names(registry):
    from aoai_audit.report.html import chains
    from aoai_audit.report.json_report import result_dict

    doc = result_dict(example_result(registry), registry)
    rows = {r["api"]["api"]: {link.key: link for link in r["links"]} for r in chains(doc, registry.rules)}
    assert rows["chat-completions"]["cost_centre"].why == "KQ001"  # it feeds the unknown bucket
    assert rows["hr-copilot"]["cost_centre"].why == "KQ002"  # its caller app has no cost centre
    assert rows["embeddings-search"]["cost_centre"].status == "intact"  # no usage names it


def test_a_snapshot_keeps_the_usage_and_scans_to_the_same_figures(tmp_path):
    snap = tmp_path / "estate.json.gz"
    cli = [sys.executable, "-m", "aoai_audit.cli"]
    subprocess.run([*cli, "collect", str(EXAMPLE), "--usage", str(USAGE), "-o", str(snap)], check=True,
                   capture_output=True, cwd=ROOT)
    direct, again = (json.loads(subprocess.run([*cli, "scan", *src, "--format", "json"], capture_output=True,
                                               text=True, cwd=ROOT).stdout)
                     for src in ([str(EXAMPLE), "--usage", str(USAGE)], [str(snap)]))
    assert again["usage"] == direct["usage"] | {"origin": again["usage"]["origin"]}
    assert {(f["rule_id"], f["tokens"]) for f in again["findings"] if f["rule_id"].startswith("KQ")} == \
        {(f["rule_id"], f["tokens"]) for f in direct["findings"] if f["rule_id"].startswith("KQ")}
