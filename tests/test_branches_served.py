"""Which model served a usage row and at which price, branch by branch (issue 29).

Prices are this file's own round numbers; expected values are written from the row and the estate given here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aoai_audit.estate import AiAccount, Deployment, Estate
from aoai_audit.usage.model import UsageRow
from aoai_audit.usage.prices import Price, PriceTable
from aoai_audit.usage.served import Mix, Pricer, Served

D1 = dt.date(2026, 11, 1)
EUS = Price("gpt-4o", "", "global", "eastus", Decimal(2), Decimal(8))
ANY = Price("gpt-4o", "", "global", "*", Decimal(3), Decimal(9))
PRICES = PriceTable((EUS, ANY))
RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
ACC = AiAccount(RID + "acc", "acc", "OpenAI", location="West Europe",
                deployments=(Deployment("chat", "gpt-4o", "2024-11-20", "GlobalStandard"),
                             Deployment("ptu", "gpt-4o", "2024-11-20", "GlobalProvisionedManaged")))


def served(**row) -> Served:
    return Pricer(Estate(accounts=(ACC,)), PRICES).served(UsageRow(D1, source="platform", **row))


def test_a_row_without_an_estate_account_keeps_its_own_region_and_its_price():
    s = served(model="gpt-4o", account="elsewhere", region="East US")
    assert (s.account, s.region, s.dtype, s.price) == ("elsewhere", "eastus", "global", EUS)


def test_the_estate_account_gives_the_region_model_version_and_type():
    s = served(deployment="CHAT", account="acc", region="eastus")  # the LLM log's region is the gateway's
    assert (s.account, s.model, s.version, s.dtype, s.region, s.price) == (
        "acc", "gpt-4o", "2024-11-20", "global", "westeurope", ANY)


def test_a_provisioned_deployment_has_no_token_price():
    s = served(deployment="ptu", account="acc")
    assert (s.dtype, s.price, s.reason) == ("provisioned", None,
                                            "provisioned throughput is billed per PTU hour, not per token")


def test_a_row_without_a_model_is_not_priced_and_says_so():
    s = served(deployment="unknown", account="acc")
    assert (s.model, s.price, s.reason) == ("", None, "no model")


def test_a_mix_adds_input_and_output_weights_apart():
    mix = Mix()
    a = served(model="gpt-4o", account="x", region="eastus")
    mix.add(a, 10, 1)
    mix.add(a, 5, 2)
    assert mix.parts == {a: [Decimal(15), Decimal(3)]}
    assert [(s, i, o) for s, i, _c, o in mix.split(30, 0, 6)] == [(a, Decimal(30), Decimal(6))]


def test_the_deployments_version_only_for_its_own_model():
    assert served(deployment="chat", account="acc", model="gpt-4o").version == "2024-11-20"
    assert served(deployment="chat", account="acc", model="gpt-4o-mini").version == ""
    assert served(deployment="chat", account="acc", model="gpt-4o-mini", model_version="0718").version == "0718"


def test_the_range_is_every_token_at_the_cheapest_and_at_the_dearest_rate_of_its_kind():
    from aoai_audit.usage.served import price_range

    big = Served("a", "d1", "gpt-4o", "", "global", "", Price("gpt-4o", "", "global", "*", Decimal(2), Decimal(8),
                                                               Decimal(1)))
    small = Served("a", "d2", "gpt-4o-mini", "", "global", "", Price("gpt-4o-mini", "", "global", "*",
                                                                     Decimal("0.5"), Decimal(2)))
    unpriced = Served("a", "d3", "x", "", "global", "", None)
    mix = Mix({big: [Decimal(1), Decimal(1)], small: [Decimal(1), Decimal(1)], unpriced: [Decimal(1), Decimal(1)]})
    # 1,000,000 in of which 200,000 cached, 100,000 out (per 1M): low 800k × 0.5 + 200k × 0.5 (mini has no cached
    # rate) + 100k × 2 = 0.7; high 800k × 2 + 200k × 1 + 100k × 8 = 2.6
    assert price_range(mix, Decimal(1_000_000), Decimal(200_000), Decimal(100_000)) == (Decimal("0.7"), Decimal("2.6"))
    assert price_range(Mix({unpriced: [Decimal(1), Decimal(0)]}), Decimal(1), Decimal(0), Decimal(0)) is None
