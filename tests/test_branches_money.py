"""The pricing of findings, branch by branch, against figures computed by hand in the test (issue 29).

`_price` is a pure function of a finding and ledger lines; the lines here are written out, so every expected
figure below is arithmetic on the literals of this file, never a value the code under test produced.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aoai_audit.estate import Estate
from aoai_audit.exposure import UNATTRIBUTED, WHOLE, _price, _sum, at_stake, rank_key, scope
from aoai_audit.findings import Finding, Money, Severity
from aoai_audit.usage.ledger import _allocate, build_ledger
from aoai_audit.usage.model import UsageData, UsageRow
from aoai_audit.usage.prices import Price, PriceTable
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED, LedgerLine

D1 = dt.date(2026, 11, 1)
PRICES = PriceTable((Price("gpt-4o", "", "global", "*", Decimal(2), Decimal(8)),))

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-eus"
NO_CAP = (Decimal(10**12), Decimal(10**9))


def line(bucket: str, tokens: int, money: str | None, *, api="chat", account="aoai-eus") -> LedgerLine:
    return LedgerLine(None, bucket, "team-a" if bucket == CONSUMER else "", "Team", account, "gpt-4o", "gpt-4o",
                      "2024-11-20", "eastus", Decimal(tokens), None if money is None else Decimal(money), "exact",
                      api=api)


def finding(rule_id: str, resource: str) -> Finding:
    return Finding(rule_id, Severity.HIGH, resource, "m")


LINES = [
    line(CONSUMER, 1_000, "2.50"),
    line(UNKNOWN, 400, "1.00"),
    line(UNKNOWN, 100, None),  # unpriced
    line(CONSUMER, 7_000, "9.99", api="other"),
    line(UNMETERED, 300, "0.75", api=""),
    line(OVER_METERED, 50, "0.10", api=""),
    line(CONSUMER, 9_999, "99.00", account="aoai-weu", api="weu-chat"),
]
APIS = {"apim": {"chat", "other"}}


@pytest.mark.parametrize("rule_id", ["BY001", "DG001"])
def test_an_account_finding_costs_everything_the_account_served_but_not_the_over_metering(rule_id):
    # aoai-eus: 1,000 + 400 + 100 + 7,000 + 300 = 8,800 tokens (the 50 over-metered excluded, aoai-weu excluded);
    # money 2.50 + 1.00 + 9.99 + 0.75 = 14.24, 100 tokens unpriced
    priced = _price(finding(rule_id, ACCOUNT), WHOLE, LINES, APIS, "EUR", NO_CAP)
    assert priced.tokens == 8_800 and priced.money == Money(Decimal("14.24"), "EUR")
    assert "account 'aoai-eus'" in priced.money_basis and "(100 of the tokens have no price)" in priced.money_basis


def test_an_account_finding_of_an_attribution_rule_carries_no_figure():
    f = finding("TM002", ACCOUNT)
    assert _price(f, UNATTRIBUTED, LINES, APIS, "EUR", NO_CAP) is f


def test_an_attribution_gap_costs_the_unknown_bucket_of_its_api():
    # api chat, unknown: 400 + 100 tokens, money 1.00 (100 unpriced)
    priced = _price(finding("TM002", "service/apim/apis/chat"), UNATTRIBUTED, LINES, APIS, "USD", NO_CAP)
    assert priced.tokens == 500 and priced.money == Money(Decimal("1.00"), "USD")
    assert "api 'chat'" in priced.money_basis and "(100 of the tokens" in priced.money_basis


def test_a_logging_gap_on_a_service_costs_everything_through_its_apis():
    # chat + other, consumer and unknown: 1,000 + 400 + 100 + 7,000 = 8,500; 2.50 + 1.00 + 9.99 = 13.49
    priced = _price(finding("DG002", "service/apim"), WHOLE, LINES, APIS, "USD", NO_CAP)
    assert priced.tokens == 8_500 and priced.money == Money(Decimal("13.49"), "USD")
    assert "service 'apim'" in priced.money_basis


def test_a_service_finding_for_an_api_nothing_metered_says_so_and_carries_no_figure():
    priced = _price(finding("TM001", "service/apim/apis/silent"), UNATTRIBUTED, LINES, APIS, "USD", NO_CAP)
    assert priced.tokens is None and priced.money is None and "api 'silent'" in priced.money_basis


def test_the_cap_is_the_platform_total_in_tokens_and_money():
    # everything through api chat: 1,500 tokens, 3.50; capped at 1,200 tokens and 3.00
    priced = _price(finding("DG002", "service/apim/apis/chat"), WHOLE, LINES, APIS, "USD",
                    (Decimal(1_200), Decimal("3.00")))
    assert priced.tokens == 1_200 and priced.money == Money(Decimal("3.00"), "USD") and "capped" in priced.money_basis
    # only the money above the cap: tokens stay
    priced = _price(finding("DG002", "service/apim/apis/chat"), WHOLE, LINES, APIS, "USD",
                    (Decimal(1_500), Decimal("3.49")))
    assert priced.tokens == 1_500 and priced.money == Money(Decimal("3.49"), "USD")
    # exactly at the cap: not capped
    priced = _price(finding("DG002", "service/apim/apis/chat"), WHOLE, LINES, APIS, "USD",
                    (Decimal(1_500), Decimal("3.50")))
    assert priced.money == Money(Decimal("3.50"), "USD") and "capped" not in priced.money_basis


def test_sum_counts_unpriced_tokens_positive_and_all_unpriced_is_no_money():
    assert _sum([line(UNKNOWN, 400, "1.00"), line(UNKNOWN, 100, None)]) == (500, Decimal("1.00"), 100)
    assert _sum([line(UNKNOWN, 100, None), line(UNKNOWN, 20, None)]) == (120, None, 120)
    assert _sum([]) == (0, Decimal(0), 0)


def test_a_resource_outside_the_estate_paths_is_left_unpriced():
    f = finding("DG001", "usage/unknown")
    assert scope(f.resource) is None and _price(f, WHOLE, LINES, APIS, "USD", NO_CAP) is f


def test_scope_reads_service_workspace_api_and_account():
    assert scope("service/apim/workspaces/ws/apis/chat/operations/x") == ("apim", "chat", None)
    assert scope("service/apim") == ("apim", None, None)
    assert scope(ACCOUNT + "/") == ("", None, "aoai-eus")


def test_at_stake_line_and_rank():
    dear = Finding("TM002", Severity.LOW, "a", "m", money=Money(Decimal("12.5"), "USD"), tokens=1_234_567,
                   money_basis="why")
    cheap = Finding("TM001", Severity.HIGH, "b", "m", money=Money(Decimal("0.01"), "USD"))
    none = Finding("TM003", Severity.HIGH, "c", "m")
    assert at_stake(dear) == "USD 12.50 · 1,234,567 tokens at stake: why"
    assert at_stake(cheap) == "USD 0.01 at stake"
    assert at_stake(Finding("X", Severity.LOW, "d", "m", tokens=5)) == "no price · 5 tokens at stake"
    assert at_stake(none) == ""
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
