"""The live usage read (auditor/usage/live.py) branch by branch, through the real Azure SDK clients against the fake
ARM on loopback (tests/fakearm.py), on the money tenant of tests/test_money.py (its docstring has the hand figures):
acct-big serves 3.0M + 0.75M gpt-4o, 1.0M + 0.25M mystery-model and ten more gpt-4o deployments of 1.0M + 0.1M
each, 16,000,000 tokens in all; acct-cheap serves 20.0M + 4.1M gpt-4o-mini. Team-chat goes to acct-cheap, big-chat
to acct-big; the service meters both into Application Insights (money-appi) and logs big-chat's calls (LLM log)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import test_money
from test_money import APPI, FAST, WINDOW, _collect

from aoai_audit.config import Settings
from aoai_audit.engine import with_live_usage
from aoai_audit.sources.live.collector import live_session
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.usage.files import load_usage_file
from fakearm import RG, SUB, platform_metrics

ACCOUNTS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts"
BIG, CHEAP = f"{ACCOUNTS}/acct-big", f"{ACCOUNTS}/acct-cheap"


@pytest.fixture()
def fake(monkeypatch):
    """The money tenant served by the fake ARM (test_money's fixture, not a copy of it)."""
    yield from test_money.fake.__wrapped__(monkeypatch)


def _silent(estate) -> list:
    return [g for g in estate.gaps if "returned no rows" in g.message]


def test_a_silent_query_names_the_tokens_only_the_accounts_that_served_them_add_up_to(fake):
    """AppMetrics unreadable (200, no rows) while acct-big served 16,000,000 tokens and acct-cheap, also behind the
    metered APIs, reported none: the gap states 16,000,000, not one token more for the account without figures."""
    fake.no_table_access.add(APPI.lower())
    fake.platform.pop(CHEAP.lower())
    (gap,) = _silent(_collect(fake))
    assert gap.target == APPI and "16,000,000 tokens served" in gap.message and "AppMetrics" in (gap.needs or "")


def test_a_silent_query_where_no_account_served_anything_is_no_gap(fake):
    """Nothing served on the platform and nothing in the gateway: no traffic, not unreadable tables."""
    fake.no_table_access.add(APPI.lower())
    fake.platform.clear()
    estate = _collect(fake)
    assert _silent(estate) == []
    assert not any(r.source == "gateway" and r.api == "team-chat" for r in estate.usage.rows)


def test_a_metrics_query_without_a_target_is_a_gap_and_the_llm_log_is_still_read(fake):
    """The Application Insights logger has no resourceId: its query cannot run (a gap naming the service); the LLM
    log query of the same service, after it, still runs: big-chat's two calls, 3.0M + 0.75M gpt-4o and
    1.0M + 0.25M mystery-model = 5,000,000 tokens."""
    loggers = next(v for k, v in fake.collections.items() if k.endswith("/money-apim/loggers"))
    for logger in loggers:
        if logger["properties"]["loggerType"] == "applicationInsights":
            logger["properties"].pop("resourceId")
    estate = _collect(fake)
    (gap,) = [g for g in estate.gaps if "has no Application Insights resource" in g.message]
    assert gap.target == "service/money-apim" and "resourceId" in (gap.needs or "")
    logged = [r for r in estate.usage.rows if r.source == "gateway"]
    assert {r.model for r in logged} == {"gpt-4o", "mystery-model"}
    assert sum(r.tokens for r in logged) == 5_000_000
    assert not any(r["path"].endswith("/money-appi/query") for r in fake.requests)


def test_the_queries_ask_log_analytics_for_its_longest_timeout(fake):
    """The Prefer header's wait, in seconds: the maximum is 10 minutes, the default 3
    (https://learn.microsoft.com/azure/azure-monitor/logs/api/timeouts); a month of gateway rows needs the most."""
    _collect(fake)
    queries = [r for r in fake.requests if r["path"].startswith("/v1/")]
    assert len(queries) == 2 and {r["headers"].get("Prefer") for r in queries} == {"wait=600"}


def test_a_us_government_run_asks_its_token_for_the_us_government_log_analytics(fake):
    """Log Analytics in Azure Government is https://api.loganalytics.us (azure-monitor-query's README, "Configure
    client for Azure sovereign cloud": https://pypi.org/project/azure-monitor-query/); the token's audience is
    that host even when the queries go elsewhere (here: the fake)."""
    options = LiveOptions(subscriptions=(SUB,), cloud="AzureUSGovernment", arm_endpoint=fake.base_url,
                          client_kwargs=dict(FAST))
    with live_session(options) as collector:
        estate = with_live_usage(collector.collect(), Settings(), collector.usage_reader(WINDOW, fake.base_url))
    scopes = {parse_qs(r["body"].decode())["scope"][0] for r in fake.requests if r["path"].endswith("/token")}
    assert "https://api.loganalytics.us/.default" in scopes and not any("loganalytics.io" in s for s in scopes)
    assert any(r.source == "gateway" for r in estate.usage.rows)


def test_a_series_without_a_deployment_reads_live_as_the_exported_body_does(fake, tmp_path):
    """The metrics API names a series by the dimensions it was split by; a series without ModelDeploymentName (or
    version) gives a row with no deployment, live as from the exported REST body: 20.0M in, 4.1M out of
    gpt-4o-mini on acct-cheap."""
    body = platform_metrics(fake.platform[CHEAP.lower()], {"metricnames": ["InputTokens,OutputTokens"]}, CHEAP)
    for metric in body["value"]:
        for series in metric["timeseries"]:
            series["metadatavalues"] = [m for m in series["metadatavalues"] if m["name"]["value"] == "modelname"]
    fake.inject("GET", r"/acct-cheap/providers/Microsoft\.Insights/metrics$", (200, {}, body))
    (tmp_path / "acct-cheap.metrics.json").write_text(json.dumps(body), encoding="utf-8")

    def key(r):
        return (r.day, r.account, r.deployment, r.model, r.model_version, r.input_tokens, r.output_tokens)

    live = sorted(key(r) for r in _collect(fake).usage.rows if r.source == "platform" and r.account == "acct-cheap")
    exported = sorted(key(r) for r in load_usage_file(str(tmp_path / "acct-cheap.metrics.json")).rows)
    assert live == exported == [(WINDOW[0], "acct-cheap", "", "gpt-4o-mini", "", 20_000_000, 4_100_000)]


def test_a_metric_that_fills_the_series_a_read_asks_for_is_reported_as_possibly_cut(fake):
    """The read asks for at most 5,000 series per metric (`top`); acct-big with 5,000 deployments fills it for both
    token metrics, so its platform total may be cut: a gap per metric, naming it and the count."""
    fake.platform[BIG.lower()] = [{"day": WINDOW[0].isoformat(), "deployment": f"d{n:04d}", "model": "gpt-4o",
                                   "version": "2024-11-20", "input": 10, "output": 1} for n in range(5000)]
    estate = _collect(fake)
    cut = sorted(g.message for g in estate.gaps if "may be cut" in g.message)
    assert cut == [f"platform metric {m} of acct-big returned 5000 series, the most one read asks for: the platform "
                   "total may be cut" for m in ("InputTokens", "OutputTokens")]
    assert not any("may be cut" in g.message and "acct-cheap" in g.message for g in estate.gaps)
