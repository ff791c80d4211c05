"""Live usage through the real azure-monitor-query LogsQueryClient and the real metrics client, against the fake."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live import LiveOptions, collect_live
from aoai_audit.usage.files import load_usage_file
from conftest import EXAMPLE, ROOT
from fakearm import (
    SUB,
    FakeARM,
    add_account,
    arm_error,
    load_usage_csv,
    login_env,
    tenant_from_estate,
)

FAST = {"retry_total": 2, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
USAGE = ROOT / "fixtures" / "example" / "usage.csv"
WINDOW = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))


@pytest.fixture()
def fake(monkeypatch):
    tenant = tenant_from_estate(load_paths([str(EXAMPLE)]))
    accounts = {name: add_account(tenant, name, local_auth=False, public="Disabled")
                for name in ("contoso-aoai-eus", "contoso-aoai-weu")}
    with FakeARM(tenant) as srv:
        load_usage_csv(srv, USAGE, accounts)
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


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
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST),
                          usage_window=WINDOW, logs_endpoint=srv.base_url)
    return collect_live(options)[0]


def test_live_usage_gives_the_team_tokens_of_the_exported_file(fake, registry):
    estate = live(fake)
    assert not estate.gaps, estate.gaps
    result = run_audit(estate, registry, Settings())
    u = result.ctx.usage
    offline = run_audit(replace(load_paths([str(EXAMPLE)]), usage=load_usage_file(str(USAGE))), registry,
                        Settings()).ctx.usage
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
    assert result.ctx.usage.platform.tokens == 15_650_000_000  # platform usage still read
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
