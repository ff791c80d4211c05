"""Live usage through the real azure-monitor-query LogsQueryClient and the real metrics client, against the fake."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner

import example_usage
from aoai_audit.cli import main
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit, with_live_usage
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import live_session
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.usage.files import load_usage_file
from aoai_audit.usage.tally import cents
from conftest import EXAMPLE, ROOT
from fakearm import SUB, FakeARM, add_account, arm_error, login_env, tenant_from_estate

FAST = {"retry_total": 2, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
USAGE = ROOT / "fixtures" / "example" / "usage.csv"
WINDOW = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))


APPI = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/microsoft.insights/components/contoso-appi"


def _tenant():
    tenant = tenant_from_estate(load_paths([str(EXAMPLE)]))
    accounts = {name: add_account(tenant, name, local_auth=False, public="Disabled", location=region,
                                  deployments=example_usage.DEPLOYMENTS[name])
                for name, region in example_usage.ACCOUNTS.items()}
    return tenant, accounts


@pytest.fixture()
def fake(monkeypatch):
    tenant, accounts = _tenant()
    with FakeARM(tenant) as srv:
        example_usage.load(srv, accounts, APPI)
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def printed_example_files() -> dict[str, str]:
    """What `aoai-audit kql` prints for the example, run against its raw telemetry and exported."""
    tenant, accounts = _tenant()
    with FakeARM(tenant) as srv, pytest.MonkeyPatch.context() as mp:
        example_usage.load(srv, accounts, APPI)
        for name, value in login_env(srv).items():
            mp.setenv(name, value)
        result = CliRunner().invoke(main, ["kql", "--subscription", SUB, "--arm-endpoint", srv.base_url, "--quiet",
                                           "--from", example_usage.WINDOW[0], "--to", example_usage.WINDOW[1]])
        assert result.exit_code == 0, result.output
        return example_usage.run_printed(srv, result.stdout)


def test_the_bundled_example_files_are_what_the_printed_queries_return():
    files = printed_example_files()
    committed = {str(p.relative_to(USAGE.parent)): p.read_text(encoding="utf-8")
                 for p in [USAGE, *sorted((USAGE.parent / "platform").glob("*.json"))]}
    assert any(".deployments" in k for k in committed) and any(".metrics" in k for k in committed)
    assert files == committed, "run `python3 tests/example_usage.py` to rebuild fixtures/example usage files"


def test_live_and_the_exported_example_give_the_same_money(fake, registry):
    live_usage = run_audit(live(fake), registry, Settings()).ctx.usage
    files = [load_usage_file(str(USAGE))] + [load_usage_file(str(p)) for p in sorted((USAGE.parent / "platform").glob("*.json"))]
    data = files[0]
    for more in files[1:]:
        data = data.merge(more)
    offline = run_audit(replace(load_paths([str(EXAMPLE)]), usage=data), registry, Settings()).ctx.usage
    for u in (live_usage, offline):  # teams + unknown + unmetered − over-metered = platform, in tokens and money
        teams = sum((c.tally.money for c in u.consumers), Decimal(0))
        assert cents(teams + u.unknown.money + u.unmetered.money - u.over_metered.money) == cents(u.platform.money)
        assert sum(c.tally.tokens for c in u.consumers) + u.unknown.tokens + u.unmetered.tokens - \
            u.over_metered.tokens == u.platform.tokens
    figures = [({c.value: (c.tally.tokens, cents(c.tally.money)) for c in u.consumers},
                (u.unknown.tokens, cents(u.unknown.money)), (u.unmetered.tokens, cents(u.unmetered.money)),
                (u.platform.tokens, cents(u.platform.money))) for u in (live_usage, offline)]
    assert figures[0] == figures[1]


def test_billed_cost_is_read_beside_the_estimate_and_a_403_names_the_role(fake, registry):
    accounts = sorted(a["id"] for a in fake.collections[f"/subscriptions/{SUB}/providers/microsoft.cognitiveservices/accounts"])
    fake.billed = {accounts[0]: 12000.25, accounts[1]: 7800.5, f"{accounts[0]}-not-audited": 99.0}
    result = run_audit(live(fake), registry, Settings())
    assert {k.rsplit("/", 1)[-1]: v[0] for k, v in result.ctx.usage.billed.items()} == \
        {"contoso-aoai-eus": Decimal("12000.25"), "contoso-aoai-weu": Decimal("7800.5")}
    from aoai_audit.report.html import render_html

    assert "Billed by Cost Management" in render_html(result, registry) and "USD 19,800.75" in render_html(result, registry)
    posts = [p for m, p in fake.calls() if m == "POST" and "CostManagement" in p]
    assert len(posts) == 2 and fake.writes() == []  # paged: two rows per page
    fake.inject("POST", r"/providers/Microsoft\.CostManagement/query$", (403, {}, arm_error("AuthorizationFailed", "no")))
    result = run_audit(live(fake), registry, Settings())
    assert any("Cost Management Reader" in f.message for f in result.findings if f.rule_id == "AU001")
    assert not result.ctx.usage.billed


def live(srv):
    """The estate with the window's usage read live, as `collect` saves it."""
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST))
    with live_session(options) as collector:
        return with_live_usage(collector.collect(), Settings(), collector.usage_reader(WINDOW, srv.base_url))


def test_live_usage_gives_the_team_tokens_of_the_exported_file(fake, registry):
    estate = live(fake)
    assert not estate.gaps, estate.gaps
    result = run_audit(estate, registry, Settings())
    u = result.ctx.usage
    data = load_usage_file(str(USAGE))
    for path in sorted((USAGE.parent / "platform").glob("*.json")):
        data = data.merge(load_usage_file(str(path)))
    offline = run_audit(replace(load_paths([str(EXAMPLE)]), usage=data), registry, Settings()).ctx.usage
    assert {(c.dimension, c.value): c.tally.tokens for c in u.consumers} == \
        {(c.dimension, c.value): c.tally.tokens for c in offline.consumers}
    assert (u.unknown.tokens, u.gateway.tokens, u.platform.tokens) == \
        (offline.unknown.tokens, offline.gateway.tokens, offline.platform.tokens)
    # AppMetrics carries no model: gateway money comes from the served mix, and the report says so
    assert u.gateway.money > 0 and any("served mix" in n for n in u.notes)
    rules = {f.rule_id for f in result.findings}
    assert {"KQ001", "KQ003", "KQ004"} <= rules
    queries = [json.loads(r["body"]) for r in fake.requests if r["path"].startswith("/v1/")]
    assert queries and all("summarize" in q["query"] for q in queries)  # aggregated on the server
    assert all(r["path"].endswith("/components/contoso-appi/query") for r in fake.requests if r["path"].startswith("/v1/"))
    metric_reads = [r for r in fake.requests if r["path"].endswith("/providers/Microsoft.Insights/metrics")]
    assert len(metric_reads) == 2 and metric_reads[0]["query"]["interval"] == ["P1D"]
    assert fake.writes() == []


def test_a_forbidden_query_is_a_gap_naming_the_role_and_the_rest_goes_on(fake, registry):
    fake.inject("POST", r"^/v1/.*/query$", (403, {}, arm_error("InsufficientAccessError", "no query access")))
    estate = live(fake)
    result = run_audit(estate, registry, Settings())
    (au,) = [f for f in result.findings if f.rule_id == "AU001" and "usage query failed" in f.message]
    assert "403" in au.message and "Log Analytics Reader" in au.message and "contoso-appi" in au.message
    assert result.ctx.usage.platform.tokens == 16_200_000_000  # platform usage still read
    assert result.exit_code() != 0


def test_partial_results_are_kept_and_reported(fake, registry):
    partial = {"tables": [{"name": "PrimaryResult", "columns": [{"name": "day", "type": "string"},
                                                               {"name": "consumer", "type": "string"},
                                                               {"name": "total_tokens", "type": "long"}],
                           "rows": [["2026-11-01", "marketing", 42]]}],
               "error": {"code": "PartialError", "message": "query ran out of memory on some shards"}}
    fake.inject("POST", r"^/v1/.*/query$", (200, {}, partial))
    estate = live(fake)
    result = run_audit(estate, registry, Settings())
    assert any("partial results" in f.message and "ran out of memory" in f.message
               for f in result.findings if f.rule_id == "AU001")
    assert any(c.value == "marketing" and c.tally.tokens >= 42 for c in result.ctx.usage.consumers)


def test_metrics_the_principal_cannot_read_are_reported_not_skipped(fake, registry):
    fake.inject("GET", r"/providers/Microsoft.Insights/metrics$",
                (403, {}, arm_error("AuthorizationFailed", "no metrics/read")))
    estate = live(fake)
    result = run_audit(estate, registry, Settings())
    gaps = [f for f in result.findings if f.rule_id == "AU001" and "Monitoring Reader" in f.message]
    assert len(gaps) == 1 and "contoso-aoai-" in gaps[0].resource


def test_a_live_scan_resolves_the_estate_once_and_reads_usage_in_the_usage_phase(fake, registry, monkeypatch):
    """The engine builds the context once; the live read gets what it resolved, and gives the money that
    reading first and auditing after (what `collect` then `scan SNAPSHOT` does) gives."""
    import aoai_audit.engine as engine

    saved = run_audit(live(fake), registry, Settings())
    built = []
    real = engine.build_context
    monkeypatch.setattr(engine, "build_context", lambda *a: built.append(a) or real(*a))
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=fake.base_url, client_kwargs=dict(FAST))
    with live_session(options) as collector:
        result = run_audit(collector.collect(), registry, Settings(),
                           live_usage=collector.usage_reader(WINDOW, fake.base_url))
    assert len(built) == 1
    assert result.ctx.usage.ledger and result.ctx.usage.ledger == saved.ctx.usage.ledger
    assert [(f.rule_id, f.resource, f.message) for f in result.findings] == \
        [(f.rule_id, f.resource, f.message) for f in saved.findings]


def test_cli_live_scan_and_collect_then_scan_give_the_same_usage(fake, tmp_path):
    window = ["--from", WINDOW[0].isoformat(), "--to", WINDOW[1].isoformat()]
    live_args = ["--subscription", SUB, "--arm-endpoint", fake.base_url, "--quiet", *window]
    scanned = CliRunner().invoke(main, ["scan", *live_args, "--format", "json", "--fail-on", "never"])
    assert scanned.exit_code == 0, scanned.output
    snap = tmp_path / "tenant.json"
    collected = CliRunner().invoke(main, ["collect", *live_args, "-o", str(snap)])
    assert collected.exit_code == 0, collected.output
    again = CliRunner().invoke(main, ["scan", str(snap), "--format", "json", "--fail-on", "never"])
    live_doc, snap_doc = json.loads(scanned.stdout), json.loads(again.stdout)
    assert live_doc["usage"]["platform"]["tokens"] == 16_200_000_000
    assert live_doc["usage"] == snap_doc["usage"]


def test_live_platform_rows_are_the_exported_metrics_rows_series_by_series(fake):
    """The live metrics read names each row's deployment, model and version as the exported REST body does."""
    def key(r):
        return (r.day, r.account, r.deployment, r.model, r.model_version, r.input_tokens, r.output_tokens)

    live_rows = sorted(key(r) for r in live(fake).usage.rows if r.source == "platform")
    exported = sorted(key(r) for p in sorted((USAGE.parent / "platform").glob("*.metrics.json"))
                      for r in load_usage_file(str(p)).rows)
    assert live_rows == exported and all(k[2] and k[3] and k[4] for k in live_rows)
