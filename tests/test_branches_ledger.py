"""The ledger's lines and rows, branch by branch: who a line is charged to, the order of the rows, and rounding
that keeps them adding up (issue 29). Figures are arithmetic on the literals here (test_branches_usage's prices)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from test_branches_usage import D1, D2, ON_ACC, gateway, ledgered, platform, score

from aoai_audit.usage.costcentres import CostCentre, CostCentreMap
from aoai_audit.usage.ledger import _allocate, ledger_rows


def test_rounding_steps_go_to_the_largest_remainders_not_the_largest_values():
    # 1.2 + 0.45 = 1.65 → 2 whole units: rounded 1 and 0, one step up goes to 0.45 (remainder 0.45 > 0.2)
    assert _allocate([Decimal("1.2"), Decimal("0.45")], Decimal(2), Decimal(1)) == [Decimal(1), Decimal(1)]


def test_only_a_mapped_consumer_carries_a_cost_centre_and_owner():
    centres = CostCentreMap((CostCentre("consumer", "team-a", "CC-1", "a@contoso.com"),))
    u = ledgered(score(platform(D1, "gpt-4o", 5_000, 0), gateway(D1, "team-a", 1_000, 0, **ON_ACC),
                       gateway(D1, "team-b", 1_000, 0, **ON_ACC), gateway(D1, "", 1_000, 0, **ON_ACC),
                       cost_centres=centres))
    assert sorted((x.bucket, x.consumer, x.cost_centre, x.owner) for x in u.ledger) == [
        ("consumer", "team-a", "CC-1", "a@contoso.com"), ("consumer", "team-b", "", ""),
        ("unknown", "", "", ""), ("unmetered", "", "", "")]


def test_rows_run_by_day_window_wide_first_and_teams_first_within_a_day():
    u = ledgered(score(platform(D1, "gpt-4o", 800, 200), gateway(D1, "team-a", 1_200, 300, **ON_ACC),
                       gateway(D2, "", 100, 0, **ON_ACC), gateway(D2, "team-b", 100, 0, **ON_ACC),
                       platform(D2, "gpt-4o", 300, 0)))
    rows = ledger_rows(u)
    assert [(r.day, r.bucket, r.consumer, r.tokens) for r in rows] == [
        (None, "over-metered", "", -500), (D1, "consumer", "team-a", 1_500), (D2, "consumer", "team-b", 100),
        (D2, "unknown", "", 100), (D2, "unmetered", "", 100)]
    assert sum(r.tokens for r in rows) == 800 + 200 + 300  # the platform total
    with pytest.raises(dataclasses.FrozenInstanceError):
        rows[0].tokens = Decimal(0)  # type: ignore[misc]
