"""Every attribution architecture read live, through the real Azure SDK clients against the fake ARM, is judged as
its template is: same architecture, same money in every bucket, same attribution findings.

The tenant is the template's estate served in ARM's REST shapes (tests/fakearm.py): APIM services with their tags,
APIs, products, fragments and workspaces; accounts with their kind, tags, network settings, Foundry projects and
deployments (SKU, PTU capacity, tags). The usage file of known truth (tests/fixtures/architectures/*/usage.csv) is
given to both runs, so any difference is what the live readers made of the estate: a tag, an owner, a PTU count or a
project lost on the way would move money between buckets (test_architectures.py holds the hand-computed figures).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from test_architectures import ARCH, CASES

from aoai_audit.attribution.summary import money_of
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit, with_live_usage
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import live_session
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.usage.costcentres import load_cost_centres
from aoai_audit.usage.files import load_usage_file
from fakearm import SUB, FakeARM, add_account, login_env, tenant_from_estate

FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
# What a template and a live read both carry: the attribution, header, streaming, owner and usage rules. Logging,
# RBAC and the account's diagnostic settings are read only live (a template that omits them says nothing), so
# their findings differ by design, not by a reader's error.
COMPARED = ("TM", "HD", "ST", "OW", "KQ", "AU003")


def _tenant(estate) -> tuple[dict, dict[str, str]]:
    """The estate in ARM's REST shapes, and its accounts' resource ids by name."""
    tenant = tenant_from_estate(estate)
    ids = {}
    for account in estate.accounts:
        ids[account.name] = add_account(tenant, account.name, local_auth=account.disable_local_auth is not True,
                    public=account.public_network_access or "Enabled", kind=account.kind or "OpenAI",
                    location=account.location or "eastus", tags=dict(account.tags) or None,
                    deployments=tuple((d.name, d.model, d.model_version, d.sku, d.capacity, dict(d.tags) or None)
                                      for d in account.deployments),
                    projects=tuple((p.name, dict(p.tags)) for p in account.projects))
    return tenant, ids


def _settings(folder) -> Settings:
    centres = folder / "cost-centres.yaml"
    return replace(Settings(), cost_centres=load_cost_centres(str(centres))) if centres.is_file() else Settings()


def _local(resource: str) -> str:
    """An ARM id from its provider on: a template writes /subscriptions/{subscription}/..., a live read the real
    subscription and group."""
    return "/providers/" + resource.split("/providers/", 1)[1] if "/providers/" in resource else resource


def _view(result) -> tuple:
    """Architecture, money per bucket (tokens, cents), and the compared findings by rule and resource."""
    money = money_of(result.ctx)
    buckets = {b.name: (round(b.tokens), f"{b.money:.2f}") for b in money.buckets} if money is not None else {}
    findings = sorted({(f.rule_id, _local(f.resource)) for f in result.active if f.rule_id.startswith(COMPARED)})
    return result.ctx.attribution.architecture.name, buckets, findings


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_reads_each_architecture_as_its_template_does(name, registry, monkeypatch):
    folder = ARCH / name
    template = load_paths([str(folder / "main.json")])
    usage = load_usage_file(str(folder / "usage.csv"))
    settings = _settings(folder)
    with FakeARM(page_size=50) as srv:
        srv.load(_tenant(template)[0])
        for key, value in login_env(srv).items():
            monkeypatch.setenv(key, value)
        options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST))
        with live_session(options) as collector:
            live = collector.collect()
    offline_result = run_audit(replace(template, usage=usage), registry, settings)
    live_result = run_audit(replace(live, usage=usage), registry, settings)
    assert not live.gaps, live.gaps
    assert _view(live_result) == _view(offline_result)
    # and the figures are the hand-computed ones, not merely equal to each other
    architecture, _fire, _quiet, expected, _platform = CASES[name]
    label, buckets, _ = _view(live_result)
    assert label == architecture
    assert {k: v for k, v in buckets.items() if k in expected} == expected


def _serve_usage(srv, estate, ids: dict[str, str], usage_csv) -> tuple[dt.date, dt.date]:
    """The usage file's truth as the raw telemetry a live read queries: gateway rows as the AppMetrics custom metrics
    llm-emit-token-metric writes (its dimensions in Properties, with the default "Service ID"), into the Application
    Insights component each service logs to; platform rows as the accounts' Azure Monitor token metrics."""
    sink = {s.name: next(lg.resource_id for lg in s.loggers if lg.logger_type.lower() == "applicationinsights")
            for s in estate.services if any(lg.logger_type.lower() == "applicationinsights" for lg in s.loggers)}
    days = []
    with open(usage_csv, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            day = dt.date.fromisoformat(row["day"])
            days.append(day)
            if row["source"] == "gateway":
                at = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
                props = {"API ID": row["api"], "Service ID": row["service"], "Service Name": row["service"],
                         **({row["dimension"]: row["consumer"]} if row["dimension"] else {})}
                table = srv.log_tables.setdefault(sink[row["service"]].lower(), {}).setdefault("AppMetrics", [])
                for name, value in (("Prompt Tokens", row["input_tokens"]), ("Completion Tokens", row["output_tokens"])):
                    if int(value):
                        table.append({"TimeGenerated": at, "Name": name, "Sum": float(value), "Properties": props})
            else:
                srv.platform.setdefault(ids[row["account"]].lower(), []).append({
                    "day": row["day"], "deployment": row["deployment"], "model": row["model"],
                    "version": row["model_version"], "input": int(row["input_tokens"]), "output": int(row["output_tokens"])})
    return min(days), max(days)


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_usage_of_each_architecture_gives_the_hand_computed_money(name, registry, monkeypatch):
    """Read live end to end (estate and usage): the money per bucket is the README's hand computation. APIM
    services that share one Application Insights component are told apart by the metric's Service ID: without
    that, each service's query counted the other's tokens too (per-team-apim-shared-account, twice the money)."""
    folder = ARCH / name
    template = load_paths([str(folder / "main.json")])
    settings = _settings(folder)
    tenant, ids = _tenant(template)
    with FakeARM(page_size=50) as srv:
        srv.load(tenant)
        window = _serve_usage(srv, template, ids, folder / "usage.csv")
        for key, value in login_env(srv).items():
            monkeypatch.setenv(key, value)
        options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST))
        with live_session(options) as collector:
            estate = with_live_usage(collector.collect(), settings, collector.usage_reader(window, srv.base_url))
    result = run_audit(estate, registry, settings)
    assert not estate.gaps, [(g.target, g.message) for g in estate.gaps]
    architecture, _fire, _quiet, expected, platform = CASES[name]
    label, buckets, _ = _view(result)
    assert label == architecture
    assert {k: v for k, v in buckets.items() if k in expected} == expected
    tokens = sum(t for t, _m in buckets.values())
    money = sum(Decimal(m) for _t, m in buckets.values())
    assert (tokens, f"{money:.2f}") == platform  # the buckets add up to the platform total the README states
