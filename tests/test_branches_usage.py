"""Usage scoring branch by branch, against figures computed by hand in each test (issue 29).

Prices here are the test's own round numbers (per 1M tokens), so every expected figure is arithmetic on the
literals written below, never a value the scorer produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import Estate
from aoai_audit.usage.costcentres import CostCentre, CostCentreMap
from aoai_audit.usage.ledger import build_ledger
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import Price, PriceTable
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.summary import headline, usage_dict
from aoai_audit.usage.tally import ACCOUNT_MIX, EXACT, UNMETERED

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
# gpt-4o: 2 in, 1 cached, 8 out; mini: 0.5 in, 2 out (per 1M tokens)
PRICES = PriceTable((
    Price("gpt-4o", "", "global", "*", Decimal(2), Decimal(8), Decimal(1)),
    Price("gpt-4o-mini", "", "global", "*", Decimal("0.5"), Decimal(2)),
), currency="EUR")
API = {("apim", "chat"): frozenset({"acc"})}
ON_ACC = {"model": "gpt-4o", "deployment": "gpt-4o", "account": "acc"}  # a gateway row the platform reconciles


def score(*rows: UsageRow, api_accounts=None, cost_centres=None):
    days = [r.day for r in rows]
    return score_usage(UsageData(rows=rows, window=(min(days), max(days)), origin="test"), Estate(), PRICES,
                       cost_centres=cost_centres, api_accounts=api_accounts)


def ledgered(u):
    """The summary with its ledger, as the usage phase builds it (auditor/usage/phase.py): reports read money there."""
    return replace(u, ledger=build_ledger(u))


def platform(day, model, i, o, account="acc"):
    return UsageRow(day, source="platform", model=model, deployment=model, account=account, deployment_type="global",
                    input_tokens=i, output_tokens=o)


def gateway(day, consumer, i, o, *, model="", cached=0, api="chat", **more):
    return UsageRow(day, dimension="Team", consumer=consumer, service="apim", api=api, model=model,
                    deployment_type="global" if model else "", input_tokens=i, cached_input_tokens=cached,
                    output_tokens=o, **more)


def test_price_of_a_row_with_its_model_counts_cached_input_at_the_cached_rate():
    # 800k × 2 + 200k × 1 + 500k × 8 = 1.6 + 0.2 + 4.0 = 5.80
    u = score(gateway(D1, "team-a", 1_000_000, 500_000, model="gpt-4o", cached=200_000))
    (team,) = u.consumers
    assert team.value == "team-a" and team.tally.tokens == 1_500_000 and team.tally.money == Decimal("5.8")
    assert u.basis == {EXACT: 1_500_000}


def test_cached_beyond_input_is_capped_and_no_cached_rate_means_the_input_rate():
    assert PRICES.prices[0].cost(100, 300, 0) == Decimal(100) / 1_000_000  # all 100 cached at 1
    assert PRICES.prices[1].cost(1_000_000, 400_000, 0) == Decimal("0.5")  # mini has no cached rate


def test_same_day_served_mix_is_preferred_over_the_windows():
    # day 1 the account served gpt-4o only, day 2 mini only: a day-2 row without a model is mini's:
    # 1M × 0.5 + 100k × 2 = 0.70; the window's mix would blend both
    u = score(platform(D1, "gpt-4o", 1_000_000, 100_000), platform(D2, "gpt-4o-mini", 1_000_000, 100_000),
              gateway(D2, "team-a", 1_000_000, 100_000), api_accounts=API)
    (team,) = u.consumers
    assert team.tally.money == Decimal("0.7") and team.tally.low == team.tally.high == Decimal("0.7")
    assert u.basis == {ACCOUNT_MIX: 1_100_000}


def test_a_day_without_platform_figures_takes_the_windows_mix_with_its_range():
    # window mix 50/50 in and out: 500k × 2 + 50k × 8 + 500k × 0.5 + 50k × 2 = 1.0 + 0.4 + 0.25 + 0.1 = 1.75;
    # range: all at mini 0.5 + 0.2 = 0.70, all at gpt-4o 2.0 + 0.8 = 2.80
    u = score(platform(D1, "gpt-4o", 1_000_000, 100_000), platform(D2, "gpt-4o-mini", 1_000_000, 100_000),
              gateway(D3, "team-a", 1_000_000, 100_000), api_accounts=API)
    (team,) = u.consumers
    assert (team.tally.money, team.tally.low, team.tally.high) == (Decimal("1.75"), Decimal("0.7"), Decimal("2.8"))


def test_unknown_share_is_the_unknown_over_the_platform_total_and_the_daily_split_adds_up():
    # platform 2,000 tokens; gateway: team 1,000 + unknown 500 ("unknown" and empty); unmetered 500
    u = score(platform(D1, "gpt-4o", 1_600, 400),
              gateway(D1, "team-a", 800, 200, **ON_ACC),
              gateway(D1, "unknown", 200, 50, **ON_ACC),
              gateway(D1, "", 200, 50, api="other", **ON_ACC))
    assert u.unknown.tokens == 500 and u.base_label == "platform tokens" and u.unknown_share == 0.25
    assert u.unknown_sources == {("chat", ""): 250, ("other", ""): 250}
    assert u.daily_split() == [(D1, 1_000, 500, 500)]
    assert u.unmetered.tokens == 500 and u.over_metered.tokens == 0 and u.platform.tokens == 2_000
    # money: platform 1,600 × 2 + 400 × 8 = 0.0064; gateway 1,200 × 2 + 300 × 8 = 0.0048; unmetered 0.0016
    assert (u.platform.money, u.gateway.money, u.unmetered.money) == (Decimal("0.0064"), Decimal("0.0048"),
                                                                       Decimal("0.0016"))
    unmetered = [x for x in u.lines if x.bucket == UNMETERED]
    assert sum(x.input_tokens + x.output_tokens for x in unmetered) == 500


def test_gateway_metering_more_than_the_platform_is_over_metered_never_negative():
    # platform 1,000; gateway 1,500 on the same model: over-metered 500, nothing unmetered
    u = score(platform(D1, "gpt-4o", 800, 200), gateway(D1, "team-a", 1_200, 300, **ON_ACC))
    assert u.over_metered.tokens == 500 and u.unmetered.tokens == 0
    # platform 800 × 2 + 200 × 8 = 0.0032; gateway 1,200 × 2 + 300 × 8 = 0.0048: 0.0016 over, nothing unmetered
    assert (u.over_metered.money, u.unmetered.money) == (Decimal("0.0016"), Decimal(0))
    (rec,) = u.reconciliation
    assert (rec.account, rec.gateway_tokens, rec.platform_tokens) == ("acc", 1_500, 1_000)
    assert u.daily_split() == [(D1, 1_500, 0, 0)]


def test_unpriced_tokens_of_one_model_are_totalled_over_repeated_rows():
    u = score(gateway(D1, "a", 100, 10, model="mystery"), gateway(D2, "b", 200, 20, model="mystery"),
              gateway(D1, "c", 1_000_000, 0, model="gpt-4o"))
    (miss,) = u.unpriced
    assert (miss.model, miss.tokens, miss.reason) == ("mystery", 330, "no price in the table")
    assert usage_dict(u)["unpriced"] == [{"model": "mystery", "version": "", "deployment_type": "global", "region": "",
                                          "tokens": 330, "source": "gateway", "reason": "no price in the table"}]
    assert u.gateway.unpriced_tokens == 330 and u.gateway.money == Decimal(2)


def test_llm_log_rows_metered_by_token_metrics_are_not_counted_twice():
    metric = gateway(D1, "team-a", 1_000, 0, gateway_source="token-metrics")
    log = gateway(D1, "team-a", 1_000, 0, model="gpt-4o", gateway_source="llm-log")
    u = score(metric, log)
    assert u.gateway.tokens == 1_000 and any("1,000 tokens in the LLM log were not counted again" in n for n in u.notes)
    # the LLM log still gives the API's model: the metric row is priced at gpt-4o, 1,000 × 2 / 1M
    assert u.gateway.money == Decimal("0.002")


# ---- KQ003: figures, direction and threshold, per account ----------------------------------------------------------
def kq003(registry, *rows: UsageRow, **settings):
    days = [r.day for r in rows]
    estate = Estate(usage=UsageData(rows=rows, window=(min(days), max(days)), origin="usage.csv"))
    result = run_audit(estate, registry, Settings(only=("KQ003",), **settings))
    assert "KQ003" not in {n.rule.id for n in result.not_evaluated}
    return [f for f in result.findings if f.rule_id == "KQ003"]


def test_kq003_platform_above_the_gateway_names_account_figures_and_direction(registry):
    # day 1: platform 2,000, gateway 1,000 (50%); day 2: platform 3,000, gateway 2,000 (33.3%): 2,000 missing
    (f,) = kq003(registry, platform(D1, "gpt-4o", 1_600, 400), gateway(D1, "a", 800, 200, **ON_ACC),
                 platform(D2, "gpt-4o", 2_400, 600), gateway(D2, "a", 1_600, 400, **ON_ACC))
    assert f.resource == "usage/reconciliation/acc" and f.tokens == 2_000 and f.location.path == "usage.csv"
    assert f.message == ("account 'acc': the platform reported 2,000 tokens more than the gateway metered on 2 day(s) "
                         "(2026-11-01, 2026-11-02)")
    assert f.evidence == ("2026-11-01: gateway 1,000, platform 2,000 (50.0%)",
                          "2026-11-02: gateway 2,000, platform 3,000 (33.3%)")


def test_kq003_gateway_above_the_platform_says_less_than(registry):
    (f,) = kq003(registry, platform(D1, "gpt-4o", 800, 200), gateway(D1, "a", 1_200, 300, **ON_ACC))
    assert f.tokens == 500 and "reported 500 tokens less than the gateway metered on 1 day(s) (2026-11-01)" in f.message


def test_kq003_at_the_threshold_passes_and_above_it_fires_only_on_that_day(registry):
    # day 1: 1,000 vs 950 = 5.0% (not above); day 2: 1,000 vs 940 = 6.0%
    (f,) = kq003(registry, platform(D1, "gpt-4o", 1_000, 0), gateway(D1, "a", 950, 0, **ON_ACC),
                 platform(D2, "gpt-4o", 1_000, 0), gateway(D2, "a", 940, 0, **ON_ACC))
    assert f.tokens == 60 and "on 1 day(s) (2026-11-02)" in f.message
    assert kq003(registry, platform(D1, "gpt-4o", 1_000, 0), gateway(D1, "a", 940, 0, **ON_ACC),
                 reconciliation_threshold=0.06) == []


def test_a_consumers_rows_add_up_per_api_and_map_to_its_cost_centre():
    centres = CostCentreMap((CostCentre("consumer", "team-*", "CC-1", "ops"), CostCentre("api", "other", "CC-2")))
    u = score(gateway(D1, "team-a", 100, 0, model="gpt-4o"), gateway(D2, "team-a", 300, 0, model="gpt-4o"),
              gateway(D1, "team-a", 50, 0, model="gpt-4o", api="other"), gateway(D1, "solo", 10, 0, model="gpt-4o"),
              cost_centres=centres)
    team, solo = u.consumers
    assert (team.value, team.tally.tokens, team.apis) == ("team-a", 450, {"chat": 400, "other": 50})
    assert (team.cost_centre, team.owner) == ("CC-1", "ops")
    assert solo.cost_centre is None and [c.value for c in u.unmapped] == ["solo"]
    # 450 × 2 / 1M = 0.0009 under CC-1
    assert {k: (t.tokens, t.money) for k, t in u.cost_centres.items()} == {"CC-1": (450, Decimal("0.0009"))}


def test_notes_say_when_input_is_priced_in_full_and_when_gateway_usage_is_empty():
    cached_known = score(gateway(D1, "a", 100, 0, model="gpt-4o", cached=10))
    assert not any("without a cached count" in n for n in cached_known.notes)
    no_cached = score(gateway(D1, "a", 100, 0, model="gpt-4o"))
    assert any("without a cached count" in n for n in no_cached.notes)
    # an estate with an LLM API in front of the account: its gateway read nothing, which is unknown, not zero
    only_platform = score(platform(D1, "gpt-4o", 100, 0), api_accounts={("apim", "chat"): frozenset({"acct"})})
    assert any("gateway usage is unknown, not zero" in n for n in only_platform.notes)
    # no LLM API at all (teams call their own accounts): there is no gateway whose usage could be unknown
    no_gateway = score(platform(D1, "gpt-4o", 100, 0))
    assert not any("gateway usage is unknown" in n for n in no_gateway.notes)
    both = score(platform(D1, "gpt-4o", 100, 0), gateway(D1, "a", 100, 0, **ON_ACC))
    assert not any("gateway usage is unknown" in n for n in both.notes)


# ---- the usage block of the JSON report and the headline, on figures computed by hand ------------------------------
def test_usage_dict_and_headline_state_the_hand_computed_figures():
    # platform 2,000,000 (1.6M in, 0.4M out of gpt-4o = 3.2 + 3.2 = 6.40); gateway: team-a 1.0M (0.8M/0.2M = 3.20),
    # unknown 0.5M (0.4M/0.1M = 1.60); unmetered 0.5M, 1.60
    u = ledgered(score(platform(D1, "gpt-4o", 1_600_000, 400_000),
                       gateway(D1, "team-a", 800_000, 200_000, **ON_ACC), gateway(D1, "", 400_000, 100_000, **ON_ACC)))
    d = usage_dict(u)
    assert d["window"] == {"from": "2026-11-01", "to": "2026-11-01"} and d["currency"] == "EUR"
    assert d["share_of"] == "platform tokens"
    assert d["platform"] == {"tokens": 2_000_000, "money": 6.4, "unpriced_tokens": 0, "money_low": 6.4,
                             "money_high": 6.4, "share": 1.0, "money_share": 1.0}
    assert (d["unknown"]["tokens"], d["unknown"]["money"], d["unknown"]["share"]) == (500_000, 1.6, 0.25)
    assert d["unknown"]["sources"] == [{"where": "api 'chat'", "api": "chat", "product": "", "tokens": 500_000}]
    assert (d["unmetered"]["tokens"], d["unmetered"]["money"]) == (500_000, 1.6)
    (team,) = d["consumers"]
    assert (team["consumer"], team["tokens"], team["money"], team["share"], team["apis"]) == (
        "team-a", 1_000_000, 3.2, 0.5, {"chat": 1_000_000})
    assert d["daily"] == [{"day": "2026-11-01", "attributed": 1_000_000, "unknown": 500_000, "platform": 2_000_000}]
    (rec,) = d["reconciliation"]
    assert (rec["account"], rec["gateway_tokens"], rec["platform_tokens"], rec["difference"], rec["share"]) == (
        "acc", 1_500_000, 2_000_000, 500_000, 0.25)
    team_line = next(x for x in d["lines"] if x["consumer"] == "team-a")
    assert (team_line["input_tokens"], team_line["output_tokens"], team_line["money"]) == ("800000", "200000", "3.200000")
    assert headline(d) == ("usage 2026-11-01 to 2026-11-01: 2,000,000 platform tokens (EUR 6.40); 25.0% of platform "
                           "tokens (500,000 tokens, EUR 1.60) went to no team; 25.0% of platform tokens (500,000 tokens, "
                           "EUR 1.60) was not metered by the gateway")


def test_headline_without_platform_figures_is_a_share_of_the_gateway_with_range_and_unpriced():
    u = score(platform(D1, "gpt-4o", 1_000_000, 100_000, account="a1"),
              platform(D1, "gpt-4o-mini", 1_000_000, 100_000, account="a1"),
              gateway(D2, "", 1_000_000, 100_000), gateway(D2, "t", 10, 0, model="mystery"))
    d = usage_dict(ledgered(u))
    d["platform"] = None  # as when only the gateway was read
    d["share_of"] = "gateway-metered tokens"
    d["unmetered"] = None
    # the unknown row on a day without platform figures: the platform-wide window mix, 0.70..2.80
    assert headline(d).endswith("(1,100,000 tokens, EUR 1.75, range EUR 0.70..2.80) went to no team")
    assert "(EUR 1.75, +10 tokens unpriced)" in headline(d)


# ---- KQ004: one finding per unpriced model, its tokens totalled over every row ---------------------------------------
def test_kq004_totals_repeated_rows_and_names_model_version_type_region(registry):
    rows = (UsageRow(D1, consumer="a", model="mystery", model_version="2025-01-01", deployment_type="global",
                     region="eastus", input_tokens=100, output_tokens=10),
            UsageRow(D2, consumer="b", model="mystery", model_version="2025-01-01", deployment_type="global",
                     region="eastus", input_tokens=200, output_tokens=20),
            platform(D1, "riddle", 7_000, 0))
    estate = Estate(usage=UsageData(rows=rows, window=(D1, D2), origin="usage.csv"))
    found = sorted((f for f in run_audit(estate, registry, Settings(only=("KQ004",))).findings if f.rule_id == "KQ004"),
                   key=lambda f: f.tokens)
    gateway_gap, platform_gap = found
    assert gateway_gap.tokens == 330 and gateway_gap.resource == "usage/prices/mystery"
    assert gateway_gap.message.startswith("330 metered tokens of mystery 2025-01-01 (global, eastus) could not be priced")
    assert platform_gap.tokens == 7_000
    assert platform_gap.message.startswith("7,000 platform-reported tokens of riddle (global) could not be priced")


# ---- KQ002: an unmapped consumer, its figures and its three largest APIs ---------------------------------------------
def test_kq002_names_consumer_dimension_figures_and_apis_by_size(registry):
    stray = [gateway(D1, "stray", n, 0, model="gpt-4o", api=api)
             for api, n in (("a", 100_000), ("b", 400_000), ("c", 300_000), ("d", 200_000))]
    rows = (*stray, gateway(D1, "team-x", 5, 0, model="gpt-4o"), UsageRow(D1, consumer="nodim", total_tokens=7))
    estate = Estate(usage=UsageData(rows=rows, window=(D1, D1), origin="usage.csv"))
    centres = CostCentreMap((CostCentre("consumer", "team-*", "CC-1"),))
    result = run_audit(estate, registry, Settings(only=("KQ002",), cost_centres=centres))
    found = {f.resource: f for f in result.findings if f.rule_id == "KQ002"}
    assert set(found) == {"usage/consumers/Team/stray", "usage/consumers/-/nodim"}
    stray = found["usage/consumers/Team/stray"]
    assert stray.message.startswith("consumer 'stray' (Team) used 1,000,000 tokens") and stray.tokens == 1_000_000
    assert stray.message.endswith("through b, c, d and has no cost centre")
    assert found["usage/consumers/-/nodim"].message.startswith("consumer 'nodim' (no dimension) used 7 tokens")
    assert "through unknown APIs" in found["usage/consumers/-/nodim"].message


def test_an_unmetered_line_belongs_to_no_consumer_on_the_platforms_deployment():
    u = score(platform(D1, "gpt-4o", 1_600, 400), gateway(D1, "team-a", 800, 200, **ON_ACC))
    (line,) = [x for x in u.lines if x.bucket == UNMETERED]
    assert (line.consumer, line.dimension, line.api, line.product, line.account, line.deployment, line.model) == (
        "", "", "", "", "acc", "gpt-4o", "gpt-4o")
    assert (line.input_tokens, line.output_tokens, line.money) == (800, 200, Decimal("0.0032"))


def test_a_platform_total_without_input_and_output_is_an_unmetered_output_line_left_unpriced():
    total_only = UsageRow(D1, source="platform", model="gpt-4o", deployment="gpt-4o", account="acc",
                          deployment_type="global", total_tokens=1_000)
    u = score(total_only, platform(D1, "gpt-4o", 300, 100))
    (line,) = [x for x in u.lines if x.bucket == UNMETERED]
    # nothing metered: 300 in, and 100 out + the 1,000 given only as a total (input and output are priced apart)
    assert (line.input_tokens, line.output_tokens, line.money) == (300, 1_100, None)
    assert (u.platform.tokens, u.unmetered.tokens, u.unmetered.unpriced_tokens) == (1_400, 1_400, 1_400)
    rec = [(r.account, r.gateway_tokens, r.platform_tokens) for r in u.reconciliation]
    assert rec == [("acc", 0, 1_400)]


def test_the_usage_block_states_over_metering_lines_basis_and_billed_cost():
    # platform 800,000 × 2 + 200,000 × 8 per 1M = 3.20; gateway 1,200,000 × 2 + 300,000 × 8 = 4.80: 1.60 over
    u = ledgered(score(platform(D1, "gpt-4o", 800_000, 200_000), gateway(D1, "team-a", 1_200_000, 300_000, **ON_ACC)))
    billed = {"/s/acc": (Decimal("12.34"), "EUR"), "/s/b": (Decimal("1.00"), "EUR")}
    d = usage_dict(replace(u, billed=billed))
    assert (d["over_metered"]["tokens"], d["over_metered"]["money"]) == (500_000, 1.6)
    assert [(x["bucket"], x["account"], x["deployment"], x["model"]) for x in d["lines"]] == [
        ("consumer", "acc", "gpt-4o", "gpt-4o")]
    assert d["basis"] == {EXACT: 1_500_000}
    # the bucket names are what the JSON, the FOCUS x_Line and a reader's queries match on
    assert [(x.bucket, x.tokens) for x in u.ledger] == [("consumer", 1_500_000), ("over-metered", -500_000)]
    assert d["billed"] == {"total": 13.34, "currency": "EUR", "accounts": [
        {"account": "/s/acc", "amount": 12.34, "currency": "EUR"}, {"account": "/s/b", "amount": 1.0, "currency": "EUR"}]}
    assert usage_dict(u)["billed"] is None
