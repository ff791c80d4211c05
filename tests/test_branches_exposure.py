"""Pricing a finding where the gateway metered nothing, and the engine's pricing step (issue 29).

The attribution model and ledger lines are written out here; every expected figure is arithmetic on these
literals (auditor/exposure.py: what passed a shared gateway unmetered is the loss of an API nothing was metered
through), never a value the code under test produced.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from aoai_audit.attribution.model import (
    SHARED,
    Architecture,
    AttributionModel,
    DeploymentPath,
    Gateway,
    Owner,
)
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import Estate
from aoai_audit.exposure import _price, price_findings
from aoai_audit.findings import Finding, Money, Severity
from aoai_audit.rules import LOSS_UNKNOWN, LOSS_UNMETERED, RISK_SERVED, Stake
from aoai_audit.usage.ledger import LedgerRow
from aoai_audit.usage.model import UsageData
from aoai_audit.usage.prices import PriceTable
from aoai_audit.usage.score import score_usage
from aoai_audit.usage.tally import UNMETERED

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
SHARED_GW = Gateway("apim", None, None, ("service/apim/apis/chat", "service/apim/apis/raw"), (), ())
OWNED_GW = Gateway("apim-gamma", None, Owner("gamma", "service", "tag"), ("service/apim-gamma/apis/g-raw",), (), ())
MODEL = AttributionModel(
    deployments=(
        DeploymentPath("acc-s", RID + "acc-s", "d", SHARED, "shared", gateways=(SHARED_GW,)),
        DeploymentPath("acc-w", RID + "acc-w", "", SHARED, "deployments not read", gateways=(SHARED_GW,)),
        DeploymentPath("acc-g", RID + "acc-g", "d", SHARED, "behind an owned gateway", gateways=(OWNED_GW,)),
    ),
    gateways=(SHARED_GW, OWNED_GW),
    architecture=Architecture("shared gateway", "one gateway"),
)


def line(account: str, deployment: str, tokens: int, money: str | None) -> LedgerRow:
    """A ledger row (whole tokens and cents): what findings are priced from."""
    return LedgerRow(None, UNMETERED, "", "", "", "", account, deployment, "gpt-4o", "", "eastus", money is not None,
                     Decimal(tokens), Decimal(money or 0), (), ("platform metrics",))


LINES = [
    line("acc-s", "d", 70, "0.14"),
    line("acc-s", "other", 9, "0.02"),  # another deployment of acc-s: not one the model puts behind the gateway
    line("acc-w", "dx", 30, "0.06"),  # acc-w's deployments were not read: the whole account is behind it
    line("acc-g", "d", 11, "0.03"),
]


def price(resource: str) -> Finding:
    return _price(Finding("TM001", Severity.HIGH, resource, "m"), Stake(LOSS_UNKNOWN), LINES, {}, "EUR", MODEL)


def test_an_api_nothing_was_metered_through_loses_what_its_accounts_served_unmetered():
    f = price("service/apim/apis/raw")
    # acc-s/d 70 tokens 0.14, acc-w (any deployment) 30 tokens 0.06
    assert (f.tokens, f.money) == (100, Money(Decimal("0.20"), "EUR"))
    assert f.money_basis == ("tokens account(s) acc-s, acc-w served that passed the gateway unmetered (platform − "
                             "gateway; the LLM API(s) chat, raw in front of them share this figure)")
    assert f.overlap == "unknown:tokens account(s) acc-s, acc-w served that passed the gateway unmetered"


def test_an_owned_gateway_or_an_api_of_no_gateway_carries_no_figure():
    for resource, name in (("service/apim-gamma/apis/g-raw", "g-raw"), ("service/elsewhere/apis/x", "x")):
        f = price(resource)
        assert (f.tokens, f.money) == (None, None)
        assert f.money_basis.startswith(f"no usage was metered through api '{name}' in the window")


def test_a_loss_of_no_tokens_has_no_overlap_key():
    f = _price(Finding("BY001", Severity.HIGH, RID + "acc-none", "m"), Stake(LOSS_UNMETERED, RISK_SERVED), LINES, {},
               "EUR", MODEL)
    assert (f.tokens, f.money, f.overlap) == (0, Money(Decimal(0), "EUR"), "")
    assert f.money_basis == "what account 'acc-none' served that no gateway metered (platform − gateway)"


def test_usage_with_an_empty_ledger_leaves_every_finding_unpriced():
    empty = score_usage(UsageData(rows=(), origin="t"), Estate(), PriceTable(()))
    ctx = dataclasses.replace(build_context(Estate(), Settings()), usage=empty)
    findings = [Finding("BY001", Severity.HIGH, RID + "acc-s", "m"), Finding("TM002", Severity.HIGH, "service/a", "m")]
    assert price_findings(findings, ctx) == findings
