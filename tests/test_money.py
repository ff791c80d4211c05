"""Money to the cent, against a tenant whose bill is known, live and through the printed queries.

The tenant (tests/fixtures/money): one APIM service, two Azure OpenAI accounts.
  acct-cheap serves only gpt-4o-mini (deployment `mini`); API team-chat goes there (LLM logging off for it).
  acct-big serves gpt-4o (`gpt4o`), an unpriced `mystery-model` and ten more gpt-4o deployments that the
  gateway never sees: 12 series per metric, more than the metrics API's default of 10.
  API big-chat goes to acct-big; the service records its calls twice: token metrics and the LLM log.
  Team comes from x-team-id with the policy's fallback "no-team" (the unknown bucket).

Shipped prices per 1M tokens (global): gpt-4o 2024-11-20 2.50 in, 1.25 cached, 10.00 out; gpt-4o-mini
2024-07-18 0.15 in, 0.075 cached, 0.60 out; mystery-model has no price.

Hand computation (day 2026-11-01):
  alpha  team-chat  10.0M in (4.0M cached) + 2.0M out  → 6M×0.15 + 4M×0.075 + 2M×0.60 = 0.90+0.30+1.20 = 2.40
  alpha  big-chat    4.0M in + 1.0M out, served (LLM log) 3/4 gpt-4o, 1/4 mystery
                     → 3M×2.50 + 0.75M×10 = 15.00; 1.25M tokens unpriced
  beta   team-chat   5.0M in + 1.0M out → 0.75 + 0.60 = 1.35
  no-team team-chat  2.0M in + 0.6M out → 0.30 + 0.36 = 0.66                        (unknown bucket)
  teams: alpha 17.40 (17,000,000 tokens, 1,250,000 unpriced), beta 1.35 (6,000,000), unknown 0.66 (2,600,000)
  platform acct-cheap mini 20.0M in + 4.1M out; the 4.0M cached the gateway saw are cached here too
                     → 16M×0.15 + 4M×0.075 + 4.1M×0.60 = 2.40+0.30+2.46 = 5.16
  platform acct-big  gpt4o 3.0M + 0.75M = 15.00; mystery 1.25M unpriced; b01..b10 10×(1.0M + 0.1M) = 10×3.50 = 35.00
  platform total 40,100,000 tokens, USD 55.16 (+1,250,000 unpriced)
  unmetered acct-cheap 3.0M in + 0.5M out = 0.45+0.30 = 0.75; acct-big b01..b10 11.0M = 35.00
            → 14,500,000 tokens, USD 35.75
  check: 17.40 + 1.35 + 0.66 + 35.75 = 55.16; 17.0M + 6.0M + 2.6M + 14.5M = 40.1M
  shares of platform tokens: unknown 2.6/40.1 = 6.5%; unmetered 14.5/40.1 = 36.2%
  billed (Cost Management): acct-cheap 5.10, acct-big 52.40 → 57.50
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shlex
from dataclasses import replace
from decimal import Decimal
from functools import reduce

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit, with_live_usage
from aoai_audit.report.html import render_html
from aoai_audit.report.json_report import render_json
from aoai_audit.report.text import render_text
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import live_session
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.usage.files import load_usage_file
from conftest import ROOT
from example_usage import az_rest
from fakearm import RG, SUB, FakeARM, add_account, login_env, tenant_from_estate

MONEY = ROOT / "tests" / "fixtures" / "money" / "money-apim"
DAY = "2026-11-01"
WINDOW = (dt.date(2026, 11, 1), dt.date(2026, 11, 1))
FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
SID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/money-apim"
APPI = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/microsoft.insights/components/money-appi"
M = 1_000_000

EXPECTED = {  # consumer → (tokens, money, unpriced tokens)
    "alpha": (17 * M, Decimal("17.40"), 1_250_000),
    "beta": (6 * M, Decimal("1.35"), 0),
}
UNKNOWN = (2_600_000, Decimal("0.66"))
UNMETERED = (14_500_000, Decimal("35.75"))
PLATFORM = (40_100_000, Decimal("55.16"), 1_250_000)
BILLED = Decimal("57.50")


def _at(hour: int) -> dt.datetime:
    return dt.datetime.fromisoformat(DAY).replace(hour=hour, tzinfo=dt.timezone.utc)


def _metrics(api: str, team: str, prompt: int, completion: int, cached: int = 0) -> list[dict]:
    """AppMetrics rows as llm-emit-token-metric writes them, split over two data points."""
    rows = []
    for hour, part in ((9, 0.4), (15, 0.6)):
        props = {"API ID": api, "Team": team, "Service ID": "money-apim"}
        for name, value in (("Prompt Tokens", prompt), ("Completion Tokens", completion),
                            ("Total Tokens", prompt + completion), ("Cached Tokens", cached)):
            if value:
                rows.append({"TimeGenerated": _at(hour), "Name": name, "Sum": value * part, "Properties": props})
    return rows


def _llm(cid: str, model: str, deployment: str, prompt: int, completion: int, api: str, sub: str) -> tuple[list, list]:
    """One request in the LLM log (a large one logged in two chunks, as APIM does) and its gateway log row."""
    chunk = {"TimeGenerated": _at(10), "CorrelationId": cid, "ModelName": model, "DeploymentName": deployment,
             "Region": "West Europe", "PromptTokens": prompt, "CompletionTokens": completion,
             "TotalTokens": prompt + completion, "IsStreamCompletion": False, "SequenceNumber": 0}
    return ([chunk, {**chunk, "SequenceNumber": 1}],
            [{"TimeGenerated": _at(10), "CorrelationId": cid, "ApiId": api, "ProductId": "", "ApimSubscriptionId": sub}])


@pytest.fixture()
def fake(monkeypatch):
    tenant = tenant_from_estate(load_paths([str(MONEY)]))
    cheap = add_account(tenant, "acct-cheap", local_auth=False, public="Disabled",
                        deployments=(("mini", "gpt-4o-mini", "2024-07-18", "GlobalStandard"),))
    extra = tuple((f"gpt4o-b{n:02d}", "gpt-4o", "2024-11-20", "GlobalStandard") for n in range(1, 11))
    big = add_account(tenant, "acct-big", local_auth=False, public="Disabled",
                      deployments=(("gpt4o", "gpt-4o", "2024-11-20", "GlobalStandard"),
                                   ("mystery", "mystery-model", "1", "GlobalStandard"), *extra))
    law = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/law"
    tenant["collections"][f"{SID}/providers/Microsoft.Insights/diagnosticSettings"] = [{
        "id": f"{SID}/providers/microsoft.insights/diagnosticSettings/llm", "name": "llm",
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {"workspaceId": law, "logAnalyticsDestinationType": "Dedicated",
                       "logs": [{"category": "GatewayLogs", "enabled": True},
                                {"category": "GatewayLlmLogs", "enabled": True}]}}]
    with FakeARM(tenant) as srv:
        srv.log_tables[APPI.lower()] = {"AppMetrics": (
            _metrics("team-chat", "alpha", 10 * M, 2 * M, cached=4 * M) + _metrics("team-chat", "beta", 5 * M, M)
            + _metrics("team-chat", "no-team", 2 * M, 600_000) + _metrics("big-chat", "alpha", 4 * M, M))}
        a_llm, a_gw = _llm("c1", "gpt-4o", "gpt4o", 3 * M, 750_000, "big-chat", "sub-alpha")
        b_llm, b_gw = _llm("c2", "mystery-model", "mystery", M, 250_000, "big-chat", "sub-alpha")
        srv.log_tables[SID.lower()] = {"ApiManagementGatewayLlmLog": a_llm + b_llm, "ApiManagementGatewayLogs": a_gw + b_gw}
        srv.platform[cheap.lower()] = [{"day": DAY, "deployment": "mini", "model": "gpt-4o-mini", "version": "2024-07-18",
                                        "input": 20 * M, "output": 4_100_000}]
        srv.platform[big.lower()] = [
            {"day": DAY, "deployment": "gpt4o", "model": "gpt-4o", "version": "2024-11-20", "input": 3 * M, "output": 750_000},
            {"day": DAY, "deployment": "mystery", "model": "mystery-model", "version": "1", "input": M, "output": 250_000},
        ] + [{"day": DAY, "deployment": d, "model": "gpt-4o", "version": "2024-11-20", "input": M, "output": 100_000}
             for d, *_ in extra]
        srv.billed = {cheap: 5.10, big: 52.40}
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def _collect(srv, usage: bool = True):
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST))
    with live_session(options) as collector:
        estate = collector.collect()
        return with_live_usage(estate, Settings(), collector.usage_reader(WINDOW, srv.base_url)) if usage else estate


def _figures(u) -> dict:
    return {
        "consumers": {c.value: (c.tally.tokens, c.tally.money.quantize(Decimal("0.01")), c.tally.unpriced_tokens)
                      for c in u.consumers},
        "unknown": (u.unknown.tokens, u.unknown.money.quantize(Decimal("0.01"))),
        "unmetered": (u.unmetered.tokens, u.unmetered.money.quantize(Decimal("0.01"))),
        "platform": (u.platform.tokens, u.platform.money.quantize(Decimal("0.01")), u.platform.unpriced_tokens),
    }


HAND = {"consumers": EXPECTED, "unknown": UNKNOWN, "unmetered": UNMETERED, "platform": PLATFORM}


def _printed(srv, tmp_path) -> list[str]:
    """Run `aoai-audit kql` against the tenant, run what it prints (queries through the fake Log Analytics
    evaluator, `az rest` through the fake ARM), and save the results as the portal and the CLI export them."""
    result = CliRunner().invoke(main, ["kql", "--subscription", SUB, "--arm-endpoint", srv.base_url, "--quiet",
                                       "--from", DAY, "--to", DAY])
    assert result.exit_code == 0, result.output
    files = []
    blocks = result.stdout.split("// ---- query ")[1:]
    assert len(blocks) == 2  # token metrics and the LLM log of the one service
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        target = lines[1].removeprefix("// run against ")
        text = "\n".join(lines[2:]).split("\n\n")[0]
        from fakearm import answer_log_query

        table = answer_log_query(srv, {"query": text}, target)["tables"][0]
        names = [c["name"] for c in table["columns"]]
        if i == 0:  # the portal's "Export to CSV (all columns)"
            path = tmp_path / f"query{i}.csv"
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(names)
                writer.writerows([["" if v is None else v for v in row] for row in table["rows"]])
        else:  # `az monitor log-analytics query` prints a JSON list of row objects
            path = tmp_path / f"query{i}.json"
            path.write_text(json.dumps([{n: "" if v is None else str(v) for n, v in zip(names, row, strict=True)}
                                        for row in table["rows"]]))
        files.append(str(path))
    commands = [line for line in result.stdout.splitlines() if line.startswith("az ")]
    assert len(commands) == 4  # per account: its platform metrics and its deployments
    for j, command in enumerate(commands):
        argv = shlex.split(command)
        for k, body in enumerate(az_rest(srv, argv[argv.index("--url") + 1])):
            path = tmp_path / f"az{j}-{k}.json"
            path.write_text(json.dumps(body))
            files.append(str(path))
    return files


def test_money_to_the_cent_live_and_through_the_printed_queries(fake, registry, tmp_path):
    live = run_audit(_collect(fake), registry, Settings())
    assert not [g for g in live.estate.gaps], live.estate.gaps
    u = live.ctx.usage
    assert _figures(u) == HAND
    # every figure reconciles: teams + unknown + unmetered = platform, tokens and money; nothing negative
    teams = sum((c.tally.money for c in u.consumers), Decimal(0))
    assert teams + u.unknown.money + u.unmetered.money == u.platform.money
    assert sum(c.tally.tokens for c in u.consumers) + u.unknown.tokens + u.unmetered.tokens == u.platform.tokens
    assert u.over_metered.tokens == 0 and all(ln.money is None or ln.money >= 0 for ln in u.lines)
    assert sum((a for a, _c in u.billed.values()), Decimal(0)) == BILLED
    # the portal-style per-API Application Insights diagnostics (metrics on) are read live: no false TM008
    assert not [f for f in live.findings if f.rule_id == "TM008"]
    assert {d.api for d in live.estate.services[0].diagnostics if d.name == "applicationinsights"} == \
        {"team-chat", "big-chat"}
    # LLM logging is off for team-chat alone (its API diagnostic): DG002 names that API, not the service
    assert [f.resource for f in live.findings if f.rule_id == "DG002"] == ["service/money-apim/apis/team-chat"]
    # the LLM log counted nothing twice, and said so
    assert any("not counted again" in n for n in u.notes)

    files = _printed(fake, tmp_path)
    estate = _collect(fake, usage=False)
    data = reduce(lambda a, b: a.merge(b), (load_usage_file(f) for f in files))
    offline = run_audit(replace(estate, usage=data), registry, Settings())
    assert _figures(offline.ctx.usage) == HAND
    kq = [f for f in offline.findings if f.rule_id.startswith("KQ")]
    assert kq and all(f.location.path in files for f in kq)  # a usage file, never "live + live"
    assert all(f.location.resource_id and f.location.resource_id.startswith("usage/live")
               for f in live.findings if f.rule_id.startswith("KQ"))

    for result in (live, offline):
        doc = json.loads(render_json(result, registry))["usage"]
        assert [(c["consumer"], c["tokens"], c["money"]) for c in doc["consumers"]] == \
            [("alpha", 17 * M, 17.40), ("beta", 6 * M, 1.35)]
        assert (doc["unknown"]["money"], doc["unmetered"]["money"], doc["platform"]["money"]) == (0.66, 35.75, 55.16)
        assert doc["share_of"] == "platform tokens" and doc["unknown"]["share"] == round(2.6 / 40.1, 4)
        lines = [ln for ln in doc["lines"] if ln["money"] is not None]
        assert sum(Decimal(ln["money"]) for ln in lines).quantize(Decimal("0.01")) == Decimal("55.16")
        text = " ".join(render_text(result, registry).split())  # the terminal renderer wraps lines
        assert "6.5% of platform tokens (2,600,000 tokens, USD 0.66" in text and "USD 55.16" in text
        assert "USD 35.75" in text and "+1,250,000 tokens unpriced" in text
        html = render_html(result, registry)
        for figure in ("USD 17.40", "USD 1.35", "USD 0.66", "USD 35.75", "USD 55.16", "of platform tokens",
                       "1,250,000 tokens with no price"):
            assert figure in html
    assert "USD 57.50" in render_html(live, registry)  # billed: only a live run reads Cost Management
    # the text and Markdown say it too, beside the estimate (hand: 5.10 + 52.40 for the 2 accounts)
    assert "Cost Management billed the 2 account(s) USD 57.50 (actual cost)" in " ".join(
        render_text(live, registry).split())
    assert "billed the 2 account(s) USD 57.50" not in " ".join(render_text(offline, registry).split())


def test_more_than_ten_platform_series_are_all_read(fake):
    """The fake cuts at 10 series without `top`, as Azure does; the live read and the printed command set it."""
    big = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts/acct-big"
    _s, _h, cut = fake.route({"method": "GET", "path": f"{big}/providers/Microsoft.Insights/metrics", "headers": {},
                              "query": {"metricnames": ["InputTokens"], "$filter": ["ModelDeploymentName eq '*'"]}})
    assert len(cut["value"][0]["timeseries"]) == 10
    estate = _collect(fake)
    assert len({r.deployment for r in estate.usage.platform if r.account == "acct-big"}) == 12


def test_silent_empty_gateway_result_is_a_gap_naming_table_access(fake, registry):
    fake.no_table_access.add(APPI.lower())
    estate = _collect(fake)
    gaps = [g for g in estate.gaps if "returned no rows" in g.message]
    assert len(gaps) == 1 and "AppMetrics" in (gaps[0].needs or "") and "not zero" in gaps[0].message
    result = run_audit(estate, registry, Settings())
    assert any(f.rule_id == "AU001" and "returned no rows" in f.message for f in result.findings)
