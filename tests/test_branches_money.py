"""The pricing of findings, branch by branch, against figures computed by hand in the test (issue 29).

`_price` is a pure function of a finding and ledger rows; the rows here are written out, so every expected
figure below is arithmetic on the literals of this file, never a value the code under test produced.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aoai_audit.estate import Estate
from aoai_audit.exposure import _price, _sum, at_stake, rank_key, scope
from aoai_audit.findings import Finding, Money, Severity
from aoai_audit.rules import (
    LOSS_COST,
    LOSS_NONE,
    LOSS_UNKNOWN,
    LOSS_UNMETERED,
    RISK_SERVED,
    RISK_THROUGH,
    Stake,
)
from aoai_audit.usage.ledger import LedgerRow, _allocate, build_ledger
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import Price, PriceTable
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED

D1 = dt.date(2026, 11, 1)
PRICES = PriceTable((Price("gpt-4o", "", "global", "*", Decimal(2), Decimal(8)),))

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-eus"


def line(bucket: str, tokens: int, money: str | None, *, api="chat", account="aoai-eus", deployment="gpt-4o"
         ) -> LedgerRow:
    """A ledger row (whole tokens and cents, one API): what findings are priced from."""
    return LedgerRow(None, bucket, "Team", "team-a" if bucket == CONSUMER else "", "", "", account, deployment,
                     "gpt-4o", "2024-11-20", "eastus", money is not None, Decimal(tokens),
                     Decimal(money or 0), (api,) if api else (), ("exact",))


def finding(rule_id: str, resource: str) -> Finding:
    return Finding(rule_id, Severity.HIGH, resource, "m")


LINES = [
    line(CONSUMER, 1_000, "2.50"),
    line(UNKNOWN, 400, "1.00"),
    line(UNKNOWN, 100, None),  # unpriced
    line(CONSUMER, 7_000, "9.99", api="other", deployment="mini"),
    line(UNMETERED, 300, "0.75", api=""),
    line(OVER_METERED, 50, "0.10", api=""),
    line(CONSUMER, 9_999, "99.00", account="aoai-weu", api="weu-chat"),
]
APIS = {"apim": {"chat", "other"}}
EUR = "EUR"


def price(rule_id: str, resource: str, stake: Stake, lines=LINES) -> Finding:
    return _price(finding(rule_id, resource), stake, lines, APIS, EUR)


def test_a_bypass_loses_what_the_account_served_unmetered_and_risks_all_it_served():
    # loss: the unmetered line of aoai-eus, 300 tokens, 0.75; at risk: aoai-eus without the over-metering:
    # 1,000 + 400 + 100 + 7,000 + 300 = 8,800 tokens, 2.50 + 1.00 + 9.99 + 0.75 = 14.24 (100 unpriced)
    f = price("BY001", ACCOUNT, Stake(LOSS_UNMETERED, RISK_SERVED))
    assert (f.tokens, f.money) == (300, Money(Decimal("0.75"), EUR)) and "account 'aoai-eus'" in f.money_basis
    assert (f.at_risk_tokens, f.at_risk) == (8_800, Money(Decimal("14.24"), EUR))
    assert "(100 of the tokens have no price)" in f.at_risk_basis


def test_a_logging_gap_on_an_account_loses_nothing_and_risks_all_it_served():
    f = price("DG001", ACCOUNT, Stake(LOSS_NONE, RISK_SERVED))
    assert (f.tokens, f.money, f.overlap) == (0, Money(Decimal(0), EUR), "")
    assert (f.at_risk_tokens, f.at_risk) == (8_800, Money(Decimal("14.24"), EUR))


def test_an_owner_gap_costs_the_account_or_only_its_deployment():
    whole = price("OW001", ACCOUNT, Stake(LOSS_COST))
    assert (whole.tokens, whole.money) == (8_800, Money(Decimal("14.24"), EUR)) and whole.at_risk_tokens is None
    # deployment mini: the 7,000 tokens of api other, 9.99
    mini = price("OW002", ACCOUNT + "/deployments/mini", Stake(LOSS_COST))
    assert (mini.tokens, mini.money) == (7_000, Money(Decimal("9.99"), EUR)) and "deployment 'mini'" in mini.money_basis


def test_an_attribution_gap_loses_the_unknown_bucket_of_its_api_and_nothing_on_an_account():
    # api chat, unknown: 400 + 100 tokens, 1.00 (100 unpriced)
    f = price("TM002", "service/apim/apis/chat", Stake(LOSS_UNKNOWN))
    assert (f.tokens, f.money) == (500, Money(Decimal("1.00"), EUR)) and f.at_risk_tokens is None
    assert "api 'chat'" in f.money_basis and "(100 of the tokens have no price)" in f.money_basis
    assert price("TM002", ACCOUNT, Stake(LOSS_UNKNOWN)).money == Money(Decimal(0), EUR)


def test_a_service_logging_gap_risks_everything_through_its_apis():
    # chat + other, consumer and unknown: 1,000 + 400 + 100 + 7,000 = 8,500 tokens; 2.50 + 1.00 + 9.99 = 13.49
    f = price("DG002", "service/apim", Stake(LOSS_NONE, RISK_THROUGH))
    assert f.money == Money(Decimal(0), EUR)
    assert (f.at_risk_tokens, f.at_risk) == (8_500, Money(Decimal("13.49"), EUR))
    assert "service 'apim'" in f.at_risk_basis


def test_an_api_nothing_was_metered_through_says_so_and_carries_no_figure():
    f = price("TM001", "service/apim/apis/silent", Stake(LOSS_UNKNOWN))
    assert f.tokens is None and f.money is None and "api 'silent'" in f.money_basis


def test_sum_counts_unpriced_tokens_positive_and_all_unpriced_is_no_money():
    assert _sum([line(UNKNOWN, 400, "1.00"), line(UNKNOWN, 100, None)]) == (500, Decimal("1.00"), 100)
    assert _sum([line(UNKNOWN, 100, None), line(UNKNOWN, 20, None)]) == (120, None, 120)
    assert _sum([]) == (0, Decimal(0), 0)


def test_a_resource_outside_the_estate_paths_is_left_unpriced():
    f = price("DG001", "usage/unknown", Stake(LOSS_NONE, RISK_SERVED))
    assert scope(f.resource) is None and f.tokens == 0 and f.at_risk_tokens is None


def test_scope_reads_service_workspace_api_account_and_deployment():
    assert scope("service/apim/workspaces/ws/apis/chat/operations/x") == ("apim", "chat", None)
    assert scope("service/apim") == ("apim", None, None)
    assert scope(ACCOUNT + "/") == ("", None, "aoai-eus")
    assert scope(ACCOUNT + "/deployments/d1") == ("", "d1", "aoai-eus")


def test_at_stake_line_and_rank():
    dear = Finding("TM002", Severity.LOW, "a", "m", money=Money(Decimal("12.5"), "USD"), tokens=1_234_567,
                   money_basis="why")
    cheap = Finding("TM001", Severity.HIGH, "b", "m", money=Money(Decimal("0.01"), "USD"))
    none = Finding("TM003", Severity.HIGH, "c", "m")
    assert at_stake(dear) == "USD 12.50 · 1,234,567 tokens lost: why"
    assert at_stake(cheap) == "USD 0.01 at stake"
    assert at_stake(Finding("X", Severity.LOW, "d", "m", tokens=5)) == "no price · 5 tokens at stake"
    assert at_stake(none) == ""
    risky = Finding("DG002", Severity.LOW, "e", "m", money=Money(Decimal(0), "USD"), tokens=0, money_basis="none",
                    at_risk=Money(Decimal("3.5"), "USD"), at_risk_tokens=1_000, at_risk_basis="all of it")
    assert at_stake(risky) == "USD 0.00 · 0 tokens lost: none; at risk (not lost): USD 3.50 · 1,000 tokens, all of it"
    assert sorted([none, cheap, dear], key=rank_key) == [dear, cheap, none]


# ---- the ledger: the over-metered line and rows that add up to the cent -----------------------------------------------
def test_allocate_rounds_so_the_rows_add_up_largest_remainder_first():
    cent = Decimal("0.01")
    assert _allocate([Decimal("0.333"), Decimal("0.333"), Decimal("0.334")], Decimal("1.00"), cent) == [
        Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]
    # rounding half up overshoots: the step back is taken from the first of the equal remainders
    assert _allocate([Decimal("0.335"), Decimal("0.335")], Decimal("0.67"), cent) == [Decimal("0.33"), Decimal("0.34")]
    assert _allocate([Decimal("2.4"), Decimal("2.4"), Decimal("2.2")], Decimal(7), Decimal(1)) == [
        Decimal(3), Decimal(2), Decimal(2)]


def test_over_metering_is_one_negative_ledger_line_of_no_one():
    # platform 800 in + 200 out of gpt-4o, gateway 1,200 + 300: 500 tokens and 0.0016 (at 2 in, 8 out) over
    summary = score_usage(UsageData(rows=(
        UsageRow(D1, source="platform", model="gpt-4o", deployment="d", account="acc", deployment_type="global",
                 input_tokens=800, output_tokens=200),
        UsageRow(D1, dimension="Team", consumer="team-a", model="gpt-4o", deployment="d", account="acc",
                 deployment_type="global", input_tokens=1_200, output_tokens=300)), window=(D1, D1), origin="t"),
        Estate(), PRICES)
    over = [x for x in build_ledger(summary) if x.bucket == OVER_METERED]
    assert [(x.day, x.consumer, x.dimension, x.account, x.model, x.tokens, x.money) for x in over] == [
        (None, "", "", "", "", Decimal(-500), Decimal("-0.0016"))]
    assert sum(x.tokens for x in build_ledger(summary)) == 1_000  # the platform total
