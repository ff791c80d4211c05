"""The pricing of findings, branch by branch, against figures computed by hand in the test (issue 29).

`_price` is a pure function of a finding and ledger lines; the lines here are written out, so every expected
figure below is arithmetic on the literals of this file, never a value the code under test produced.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from aoai_audit.exposure import UNATTRIBUTED, WHOLE, _price, _sum, at_stake, rank_key, scope
from aoai_audit.findings import Finding, Money, Severity
from aoai_audit.usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED, LedgerLine

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
