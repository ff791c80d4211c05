"""Ledger rows and the usage phase that builds them, branch by branch (issue 29): the PTU-hours a row prices, the
API a row names (none for what only the platform saw), and which accounts an API's rows are priced by. Figures are
hand-computed here or in the fixture's README, never read back from the code under test."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from test_architectures import ARCH
from test_branches_usage import D1, PRICES, gateway, ledgered, platform, score

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import Api, ApimService, Estate
from aoai_audit.resolve.classify import LlmVerdict
from aoai_audit.resolve.views import ApiView
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.files import load_usage_file
from aoai_audit.usage.ledger import ledger_rows
from aoai_audit.usage.model import UsageData
from aoai_audit.usage.phase import UsageScope, run_usage
from aoai_audit.usage.tally import ACCOUNT_MIX

PTU = ARCH / "ptu-shared-metered"


def _ptu_rows(registry):
    estate = replace(load_paths([str(PTU / "main.json")]), usage=load_usage_file(str(PTU / "usage.csv")))
    return ledger_rows(run_audit(estate, registry, Settings()).ctx.usage)


def test_a_ptu_row_states_the_reserved_hours_its_money_prices(registry):
    """README: 5 PTU × 24 h = 120 PTU-hours a day at 2.00; day 1 alpha 3/4 = 90 h (180.00), beta 30 h (60.00); day 2
    unused 120 h (240.00); day 3 alpha and beta 120 / 2.5 = 48 h each (96.00), the direct caller 24 h (48.00)."""
    got = {(r.day.isoformat(), r.bucket, r.consumer): (r.ptu_hours, r.money) for r in _ptu_rows(registry)}
    assert got == {("2026-11-01", "consumer", "alpha"): (90, Decimal("180.00")),
                   ("2026-11-01", "consumer", "beta"): (30, Decimal("60.00")),
                   ("2026-11-02", "ptu-unused", ""): (120, Decimal("240.00")),
                   ("2026-11-03", "consumer", "alpha"): (48, Decimal("96.00")),
                   ("2026-11-03", "consumer", "beta"): (48, Decimal("96.00")),
                   ("2026-11-03", "unmetered", ""): (24, Decimal("48.00"))}


def test_a_token_priced_row_has_no_ptu_hours():
    rows = ledger_rows(ledgered(score(gateway(D1, "team-a", 1_000_000, 0, model="gpt-4o"))))
    assert [(r.consumer, r.money, r.ptu_hours) for r in rows] == [("team-a", Decimal("2.00"), None)]


def test_a_row_only_the_platform_saw_names_no_api_and_a_gateway_row_names_its_own(registry):
    rows = _ptu_rows(registry)
    assert {(r.bucket, r.api, r.apis) for r in rows} == {("consumer", "chat", ("chat",)), ("unmetered", "", ()),
                                                         ("ptu-unused", "", ())}


def _view(service: str, api: str) -> ApiView:
    return ApiView(ApimService(service), Api(api), LlmVerdict(True, ("an OpenAI chat completions API",)), (), ())


def test_the_usage_phase_prices_an_apis_rows_by_the_accounts_behind_that_api():
    """Day 1: acc served gpt-4o-mini only, other gpt-4o only. A chat row without a model is priced by what acc, the
    account behind chat, served: 1M × 0.5 + 100k × 2 (per 1M) = 0.70; the two accounts' blend would be 1.75."""
    rows = (platform(D1, "gpt-4o-mini", 1_000_000, 100_000, account="acc"),
            platform(D1, "gpt-4o", 1_000_000, 100_000, account="other"),
            gateway(D1, "team-a", 1_000_000, 100_000))
    estate = Estate(usage=UsageData(rows=rows, window=(D1, D1), origin="test"))
    summary = run_usage(estate, UsageScope((_view("apim", "chat"),), (frozenset({"acc"}),)), PRICES, None)
    assert summary is not None
    (team,) = summary.consumers
    assert team.tally.money == Decimal("0.7") and summary.basis == {ACCOUNT_MIX: 1_100_000}
    assert sum((x.money or 0 for x in summary.ledger if x.bucket == "consumer"), Decimal(0)) == Decimal("0.7")


def test_a_scope_whose_accounts_do_not_line_up_with_its_apis_is_an_error_not_a_shorter_map():
    """One account set for two APIs: pairing them off would silently leave the second API without accounts (its rows
    then priced by no account mix); the phase refuses instead."""
    scope = UsageScope((_view("apim", "chat"), _view("apim", "embed")), (frozenset({"acc"}),))
    with pytest.raises(ValueError):
        scope.api_accounts  # noqa: B018
