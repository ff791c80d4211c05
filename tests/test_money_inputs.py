"""Prices from the Retail Prices API's real meter names, a refresh that cannot be led off its host, hostile
names in the printed KQL and az commands, and the range a platform mix gives."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import subprocess
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from aoai_audit.cli import main
from aoai_audit.estate import AiAccount, Deployment, Estate
from aoai_audit.usage.kql import (
    gateway_log_query,
    gateway_metrics_query,
    kql_string,
    platform_metrics_command,
)
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import load_prices, parse_meter, shipped_prices, table_from_retail_items
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.tally import cents
from fakekql import Evaluator, tokenize

D1 = dt.date(2026, 11, 1)


@pytest.mark.parametrize(("meter", "expected"), [
    ("gpt 4.1 Inp glbl", ("gpt-4.1", "", "global", "input", False)),
    ("gpt 4.1 mini cached Inp glbl", ("gpt-4.1-mini", "", "global", "input", True)),
    ("gpt 4.1 nano Outp glbl Tokens", ("gpt-4.1-nano", "", "global", "output", False)),
    ("o3 mini 0131 input glbl", ("o3-mini", "0131", "global", "input", False)),
    ("o3 mini 0131 cached input glbl", ("o3-mini", "0131", "global", "input", True)),
    ("o4-mini 0416 Outp glbl", ("o4-mini", "0416", "global", "output", False)),
    ("o3 Inpt DZone 1M Tokens", ("o3", "", "datazone", "input", False)),
    ("o3 outpt DZone 1M Tokens", ("o3", "", "datazone", "output", False)),
    ("gpt 4o 1120 Out Data Zone", ("gpt-4o", "1120", "datazone", "output", False)),
    ("GPT 5 Inpt Glbl", ("gpt-5", "", "global", "input", False)),
    ("text embedding 3 small DZ", ("text-embedding-3-small", "", "datazone", "input", False)),
    ("gpt-4o-mini-tts-aud-out-glbl", None),  # audio: not a text token price
    ("4.1 ft training Dz", None),  # fine-tuning
    ("GPT 5.1 inp Gl L", None),  # a variant the table cannot key
    ("gpt-4o-0806-Inp-glbl", ("gpt-4o", "0806", "global", "input", False)),
    ("gpt 4o 1120 cached Inp glbl", ("gpt-4o", "1120", "global", "input", True)),
    ("gpt 4.5 0227 cached Inp DZone", ("gpt-4.5", "0227", "datazone", "input", True)),
    ("gpt 4.5 0227 Outp regnl", ("gpt-4.5", "0227", "regional", "output", False)),
    ("gpt-4o-mini-0718-Outp-glbl Tokens", ("gpt-4o-mini", "0718", "global", "output", False)),
    ("gpt-4-8K-Batch-Inp-glbl Tokens", ("gpt-4-8k", "", "batch", "input", False)),
    ("gpt 4o 0513 Input global Tokens", ("gpt-4o", "0513", "global", "input", False)),
    ("gpt-4-8K PTU Inp Gl Tokens", None),  # provisioned: billed per PTU hour
    ("S1 Characters", None),
])
def test_meter_name_variants_the_api_returns(meter, expected):
    assert parse_meter(meter) == expected


def _item(sku: str, price: float, unit: str = "1K", region: str = "eastus") -> dict:
    """A Retail Prices API item in its documented shape (learn: rest/api/cost-management/retail-prices)."""
    return {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "location": "US East", "effectiveStartDate": "2025-04-14T00:00:00Z",
            "meterId": f"id-{sku}", "meterName": f"{sku} Tokens", "productId": "DZH318Z0BQPS",
            "skuId": "DZH318Z0BQPS/00", "productName": "Azure OpenAI", "skuName": sku,
            "serviceName": "Foundry Models", "serviceId": "DZH318Z0BQPS", "serviceFamily": "AI + Machine Learning",
            "unitOfMeasure": unit, "type": "Consumption", "isPrimaryMeterRegion": True, "armSkuName": ""}


def test_retail_rows_in_the_api_shape_build_the_table():
    items = [_item("gpt 4.1 Inp glbl", 0.002), _item("gpt 4.1 cached Inp glbl", 0.0005),
             _item("gpt 4.1 Outp glbl", 0.008), _item("text embedding 3 small DZ", 0.000022),
             _item("gpt 4.1 Inp glbl", 0.5, region="westeurope") | {"type": "Reservation"}]
    table = table_from_retail_items(items, "2026-11-30")
    gpt = table.find("gpt-4.1", "2025-04-14", "GlobalStandard", "eastus")
    assert (gpt.input, gpt.cached_input, gpt.output) == (Decimal("2.000"), Decimal("0.5000"), Decimal("8.000"))
    emb = table.find("text-embedding-3-small", "1", "DataZoneStandard", "eastus")
    assert emb.input == Decimal("0.022000") and emb.output == 0  # one-direction meter: output not billed
    assert "gpt 4.1 cached Inp glbl" in gpt.source and "2026-11-30" in gpt.source
    assert table.find("gpt-4.1", "", "global", "westeurope") is None  # the reservation row is not a price


def test_every_shipped_row_cites_a_meter_family_that_parses_to_itself():
    table = shipped_prices()
    assert table.as_of and len(table.prices) >= 30
    families = {(p.model, p.deployment_type) for p in table.prices}
    for needed in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o1", "o3", "o3-mini",
                   "o4-mini", "text-embedding-3-small", "text-embedding-3-large"):
        assert {(needed, t) for t in ("global", "datazone")} <= families, needed
    for p in table.prices:
        meters = [m.strip(" '") for m in p.source.split("meter family ", 1)[1].split(";")[0].split("',")]
        for meter in meters:
            parsed = parse_meter(meter.split(" (")[0].strip("'"))
            assert parsed is not None and parsed[0] == p.model and parsed[2] == p.deployment_type, (meter, p)
            assert parsed[1] in ("", p.version)
        assert table.as_of in p.source or re.search(r" on \d{4}-\d{2}-\d{2}\b", p.source), p  # each row dated


def _serve(pages: dict[str, dict], seen: list | None = None):
    """A Retail Prices API on loopback: page "first", then "next" for a `page=2` link; `{base}` in a
    NextPageLink becomes this server's own address. Requests are recorded in `seen`."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if seen is not None:
                seen.append((self.command, self.path))
            body = dict(pages.get("next" if "page=2" in self.path else "first", {}))
            if isinstance(body.get("NextPageLink"), str):
                body["NextPageLink"] = body["NextPageLink"].replace("{base}", f"http://127.0.0.1:{srv.server_address[1]}")
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("link", ["file:///etc/passwd", "https://attacker.example/prices?page=2",
                                  "http://127.0.0.2:1/prices?page=2"])
def test_refresh_never_follows_a_link_off_its_host(tmp_path, link):
    srv = _serve({"first": {"Items": [_item("gpt 4.1 Inp glbl", 0.002), _item("gpt 4.1 Outp glbl", 0.008)],
                            "NextPageLink": link}})
    out = tmp_path / "prices.json"
    try:
        proc = _refresh(out, f"http://127.0.0.1:{srv.server_address[1]}/prices")
    finally:
        srv.shutdown()
    assert proc.exit_code == 2 and "not followed" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_an_empty_refresh_is_an_error_and_writes_nothing(tmp_path):
    srv = _serve({"first": {"Items": [], "NextPageLink": None, "Count": 0}})
    out = tmp_path / "prices.json"
    try:
        proc = _refresh(out, f"http://127.0.0.1:{srv.server_address[1]}/prices")
    finally:
        srv.shutdown()
    assert proc.exit_code == 2 and "not written" in proc.stderr and not out.exists()
    proc = _refresh(out, "file:///etc/passwd")
    assert proc.exit_code == 2 and "https" in proc.stderr and not out.exists()


def test_prices_refresh_pages_through_the_retail_api(tmp_path):
    seen: list = []
    srv = _serve({
        "first": {"Items": [{"skuName": "gpt-4o-mini-0718-Outp-glbl", "retailPrice": 0.6, "unitOfMeasure": "1M",
                             "armRegionName": "eastus", "type": "Consumption"}], "NextPageLink": "{base}/prices?page=2"},
        "next": {"Items": [{"skuName": "gpt-4o-mini-0718-Inp-glbl", "retailPrice": 0.00015, "unitOfMeasure": "1K",
                            "armRegionName": "eastus", "type": "Consumption"}], "NextPageLink": None},
    }, seen)
    out = tmp_path / "prices.json"
    try:
        proc = _refresh(out, f"http://127.0.0.1:{srv.server_address[1]}/prices")
    finally:
        srv.shutdown()
    assert proc.exit_code == 0, proc.stderr
    table = load_prices(str(out))
    assert table.find("gpt-4o-mini", "2024-07-18", "GlobalStandard", "eastus").input == Decimal("0.15")
    assert all(m == "GET" for m, _ in seen) and len(seen) == 4  # two filters, two pages each


def _refresh(out, endpoint: str):
    return CliRunner().invoke(main, ["prices", "refresh", "-o", str(out), "--endpoint", endpoint])


def test_a_hostile_account_name_in_the_printed_command_runs_nothing(tmp_path):
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai$(touch x)`id`;'q'"
    command = platform_metrics_command(rid, D1, D1)
    argv = shlex.split(command)
    assert argv[:4] == ["az", "rest", "--method", "get"] and len(argv) == 6
    # run through a real shell with `az` replaced by a printer: the name arrives as data, nothing executes
    (tmp_path / "az").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (tmp_path / "az").chmod(0o755)
    proc = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert proc.returncode == 0 and not (tmp_path / "x").exists()
    assert "aoai%24%28touch%20x%29" in proc.stdout.splitlines()[-1]


@pytest.mark.parametrize("name", ['svc"\n| take 0 //', "svc\\\\\"\r\n", "tab\tand'quote"])
def test_hostile_service_and_api_names_stay_inside_kql_literals(name):
    from aoai_audit.estate import ApimService
    from aoai_audit.usage.kql import _MetricUse

    service = ApimService(name, resource_id="/subscriptions/s/x")
    use = _MetricUse(["llm"], {name: "Team", "other": "Caller"}, has_api_dimension=True)
    for query in (gateway_metrics_query(service, use, D1, D1), gateway_log_query(service, D1, D1)):
        assert all(line.startswith(("//", "let ", "    ", "| ", ") on", "AppMetrics", "ApiManagement"))
                   for line in query.text.splitlines()), query.text
        tables = {"AppMetrics": [{"TimeGenerated": dt.datetime(2026, 11, 1, 9, tzinfo=dt.timezone.utc),
                                  "Name": "Prompt Tokens", "Sum": 5.0, "Properties": {"API ID": name, "Team": "a"}}],
                  "ApiManagementGatewayLlmLog": [], "ApiManagementGatewayLogs": []}
        _columns, rows = Evaluator(tables).run(query.text)  # parses as one query: the name stayed a literal
        assert all(r["service"] == name for r in rows)
    assert tokenize(kql_string(name))[0] == ("str", name)


def test_a_backend_mix_of_two_models_gives_a_point_estimate_and_a_range():
    """The API's account served 3M gpt-4o and 1M gpt-4o-mini input tokens that day: 1M gateway input tokens are
    priced 3/4 at 2.50 and 1/4 at 0.15 = 1.91 per 1M; the range is 0.15 (all mini) to 2.50 (all gpt-4o)."""
    account = AiAccount("/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/a", "a",
                        location="eastus", deployments=(Deployment("big", "gpt-4o", "2024-11-20", "GlobalStandard"),
                                                        Deployment("small", "gpt-4o-mini", "2024-07-18", "GlobalStandard")))
    rows = (UsageRow(D1, consumer="team", service="svc", api="chat", input_tokens=1_000_000),
            UsageRow(D1, source="platform", account="a", deployment="big", input_tokens=3_000_000),
            UsageRow(D1, source="platform", account="a", deployment="small", input_tokens=1_000_000))
    u = score_usage(UsageData(rows, (D1, D1), "test"), Estate(accounts=(account,)), shipped_prices(),
                    api_accounts={("svc", "chat"): frozenset({account.resource_id.lower()})})
    team = u.consumers[0].tally
    assert (team.money, team.low, team.high) == (Decimal("1.9125"), Decimal("0.15"), Decimal("2.50"))
    assert any("served mix of the API's backend account(s)" in n for n in u.notes)
    assert u.unmetered.money == Decimal("7.65") - Decimal("1.9125")  # 3M×2.50 + 1M×0.15 − the team's share


MODELS = (("big", "gpt-4o", "2024-11-20"), ("small", "gpt-4o-mini", "2024-07-18"), ("odd", "mystery", "1"),
          ("emb", "text-embedding-3-small", "1"))


@given(st.lists(st.tuples(st.sampled_from(("gateway", "platform")), st.sampled_from(("a", "", "unknown")),
                          st.sampled_from((*MODELS, (None, "", ""))), st.sampled_from(("chat", "other")),
                          st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9)),
                min_size=1, max_size=12))
@settings(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
def test_money_reconciles_and_is_never_negative(spec):
    """Any mix of gateway and platform rows: every money figure is ≥ 0 and teams + unknown + unmetered −
    over-metered = platform, in tokens and in money (to the cent)."""
    account = AiAccount("/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/a", "a",
                        location="eastus", deployments=tuple(Deployment(d, m, v, "GlobalStandard")
                                                             for d, m, v in MODELS))
    rows = []
    for source, consumer, (dep, _m, _v), api, i, c, o in spec:
        rows.append(UsageRow(D1, source=source, consumer=consumer if source == "gateway" else None, service="svc",
                             api=api if source == "gateway" else "", deployment=dep or "",
                             account="a" if source == "platform" else "", input_tokens=i,
                             cached_input_tokens=min(c, i), output_tokens=o))
    u = score_usage(UsageData(tuple(rows), (D1, D1), "test"), Estate(accounts=(account,)), shipped_prices(),
                    api_accounts={("svc", "chat"): frozenset({account.resource_id.lower()})})
    tallies = [c.tally for c in u.consumers] + [u.unknown, u.gateway]
    if u.platform is not None:
        tallies += [u.platform, u.unmetered, u.over_metered]
        teams = sum((c.tally.money for c in u.consumers), Decimal(0))
        assert cents(teams + u.unknown.money + u.unmetered.money - u.over_metered.money) == cents(u.platform.money)
        assert sum(c.tally.tokens for c in u.consumers) + u.unknown.tokens + u.unmetered.tokens - \
            u.over_metered.tokens == u.platform.tokens
    assert all(t.money >= 0 and t.low >= 0 and t.high >= 0 and t.low <= t.money <= t.high for t in tallies)
    assert all(ln.money is None or ln.money >= 0 for ln in u.lines)
