"""Money by attribution path, branch by branch, against figures added up by hand in this file (issue 29).

The attribution model and the ledger lines are written out here, so every expected figure is arithmetic on the
literals below (RULES.md, "Attribution paths"), never a value the code under test produced.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from aoai_audit.attribution.model import (
    BY_RESOURCE,
    METERED,
    NO_OWNER,
    Architecture,
    AttributionModel,
    DeploymentPath,
    Gateway,
    Owner,
)
from aoai_audit.attribution.money import (
    AT_GATEWAY,
    BY_RESOURCE_BUCKET,
    NO_OWNER_BUCKET,
    OVER_BUCKET,
    SHARED_BUCKET,
    UNUSED_BUCKET,
    Share,
    classify,
    money_by_path,
)
from aoai_audit.usage.tally import CONSUMER, OVER_METERED, PTU_UNUSED, UNKNOWN, UNMETERED, LedgerLine

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
ALPHA = Owner("alpha", "tag", "tag 'team=alpha' on account 'acc-team'")
BETA = Owner("beta", "account", "cost-centre map entry for account 'acc-iso'")
GAMMA = Owner("gamma", "service", "tag 'team=gamma' on APIM service 'apim-gamma'")
SHARED_GW = Gateway("apim", None, None, ("service/apim/apis/chat", "service/apim/apis/raw"),
                    ("service/apim/apis/chat",), ("service/apim/apis/chat",))
GAMMA_GW = Gateway("apim-gamma", None, GAMMA, ("service/apim-gamma/apis/g-chat", "service/apim-gamma/apis/g-raw"),
                   ("service/apim-gamma/apis/g-chat",), ())
MODEL = AttributionModel(
    deployments=(
        DeploymentPath("acc-shared", RID + "acc-shared", "gpt-4o", METERED, "metered", gateways=(SHARED_GW,),
                       via="gateway"),
        DeploymentPath("acc-team", RID + "acc-team", "d1", BY_RESOURCE, "tagged", owner=ALPHA, via="tag"),
        DeploymentPath("acc-iso", RID + "acc-iso", "d2", BY_RESOURCE, "mapped", owner=BETA, via="account"),
        DeploymentPath("acc-ws", RID + "acc-ws", "d4", BY_RESOURCE, "team workspace", via="workspace"),
        DeploymentPath("acc-orphan", RID + "acc-orphan", "d3", NO_OWNER, "no tag, no map entry"),
    ),
    gateways=(SHARED_GW, GAMMA_GW),
    architecture=Architecture("mixed", "some of each"),
    api_reach=(("service/apim/apis/raw", frozenset({"ghost"})),
               ("service/apim-gamma/apis/g-raw", frozenset({"phantom"}))),
)


def line(bucket: str, account: str, deployment: str, tokens: int, money: str | None, api: str = "") -> LedgerLine:
    return LedgerLine(None, bucket, "team-x" if bucket == CONSUMER else "", "Team" if bucket == CONSUMER else "",
                      account, deployment, "gpt-4o", "2024-11-20", "eastus", Decimal(tokens),
                      None if money is None else Decimal(money), "exact", api=api)


LINES = [
    line(CONSUMER, "acc-shared", "gpt-4o", 1_000, "2.00", "chat"),  # at the gateway
    line(CONSUMER, "acc-team", "d1", 500, "1.00", "chat"),  # by resource: tag
    line(UNMETERED, "acc-iso", "d2", 300, "0.60"),  # by resource: account (owner known, unmetered too)
    line(UNKNOWN, "acc-shared", "gpt-4o", 200, "0.40", "chat"),  # shared: metered without a consumer
    line(UNMETERED, "acc-orphan", "d3", 100, None),  # no owner, unpriced
    line(UNKNOWN, "", "", 50, "0.10", "g-chat"),  # by resource: the service is one team's
    line(UNMETERED, "ghost", "", 70, "0.14"),  # not in the estate, behind the shared gateway's unmetered API
    line(UNMETERED, "phantom", "", 30, "0.06"),  # not in the estate, behind an owned gateway only: no owner
    line(UNKNOWN, "acc-ws", "d4", 20, "0.04", "chat"),  # by resource without an owner: how = the path's via
    line(UNMETERED, "acc-ws", "d4", 10, "0.02"),  # the same resource, unmetered and ownerless: shared
    line(PTU_UNUSED, "acc-team", "d1", 0, "3.00"),
    line(OVER_METERED, "", "", -40, "-0.08"),
]


def share(name: str, tokens: int, money: str, unpriced: int = 0) -> Share:
    return Share(name, Decimal(tokens), Decimal(money), Decimal(unpriced))


def test_each_line_lands_in_its_bucket_and_the_buckets_add_up():
    got = money_by_path(LINES, MODEL)
    assert got.buckets == (
        share(AT_GATEWAY, 1_000, "2.00"),
        share(BY_RESOURCE_BUCKET, 500 + 300 + 50 + 20, "1.74"),  # 1.00 + 0.60 + 0.10 + 0.04
        share(SHARED_BUCKET, 200 + 70 + 10, "0.56"),  # 0.40 + 0.14 + 0.02
        share(NO_OWNER_BUCKET, 100 + 30, "0.06", 100),
        share(UNUSED_BUCKET, 0, "3.00"),
        share(OVER_BUCKET, -40, "-0.08"),
    )
    assert got.total == share("total", 2_240, "7.28", 100)  # 2.00 + 1.74 + 0.56 + 0.06 + 3.00 - 0.08
    assert got.no_team == share("went to no team", 410, "0.62", 100)


def test_by_resource_is_split_by_what_attributes_it():
    assert money_by_path(LINES, MODEL).by_resource == (
        share("account", 300, "0.60"), share("service", 50, "0.10"), share("tag", 500, "1.00"),
        share("workspace", 20, "0.04"))


def test_the_no_team_buckets_are_split_by_what_the_gateway_saw():
    assert money_by_path(LINES, MODEL).no_team_parts == (
        share("metered with no consumer value (unknown bucket)", 200, "0.40"),
        share("not metered by any gateway (platform − gateway)", 70 + 100 + 30 + 10, "0.22", 100))


def test_accounts_the_estate_does_not_hold_are_named_even_without_a_deployment():
    (note,) = money_by_path(LINES, MODEL).notes
    assert note.startswith("usage on account(s)/deployment(s) the estate does not hold (ghost, phantom):")


def test_a_deployment_alone_names_the_unknown_resource():
    (note,) = money_by_path([line(CONSUMER, "", "nowhere", 5, "0.01", "chat")], MODEL).notes
    assert "(nowhere)" in note


def test_an_unmetered_line_on_an_unknown_account_is_shared_only_behind_a_shared_gateway():
    assert classify(line(UNMETERED, "ghost", "", 1, "0"), MODEL)[0] == SHARED_BUCKET
    assert classify(line(UNMETERED, "phantom", "", 1, "0"), MODEL)[0] == NO_OWNER_BUCKET
    assert classify(line(UNMETERED, "elsewhere", "", 1, "0"), MODEL)[0] == NO_OWNER_BUCKET


def test_a_gateway_line_without_an_account_lands_by_its_gateway_unit():
    assert classify(line(UNKNOWN, "", "", 1, "0", "g-chat"), MODEL) == (BY_RESOURCE_BUCKET, "service", None)
    assert classify(line(CONSUMER, "", "", 1, "0", "chat"), MODEL) == (AT_GATEWAY, "", None)
    assert classify(line(UNKNOWN, "", "", 1, "0", "chat"), MODEL) == (SHARED_BUCKET, "", None)


def test_no_unused_or_over_metered_bucket_when_there_is_none():
    got = money_by_path(LINES[:2], MODEL)
    assert [b.name for b in got.buckets] == [AT_GATEWAY, BY_RESOURCE_BUCKET, SHARED_BUCKET, NO_OWNER_BUCKET]
    assert got.notes == () and got.no_team_parts == ()


# ---- the money statement and the attribution block: ledger rows summed per line ----------------------------------
def _ctx(lines: list[LedgerLine]):
    """A real context and usage summary whose ledger is `lines` and whose platform total is their sum."""
    from aoai_audit.config import Settings
    from aoai_audit.context import build_context
    from aoai_audit.estate import Estate
    from aoai_audit.usage.model import UsageData
    from aoai_audit.usage.prices import PriceTable
    from aoai_audit.usage.score import score_usage
    from aoai_audit.usage.tally import Tally

    empty = score_usage(UsageData(rows=(), origin="t"), Estate(), PriceTable(()))
    platform = Tally(int(sum(x.tokens for x in lines)), sum((x.money for x in lines if x.money is not None), Decimal(0)))
    usage = dataclasses.replace(empty, ledger=tuple(lines), platform=platform, currency="EUR")
    return dataclasses.replace(build_context(Estate(), Settings()), attribution=MODEL, usage=usage)


def team_line(tokens: int, money: str, centre: str) -> LedgerLine:
    return dataclasses.replace(line(CONSUMER, "acc-shared", "gpt-4o", tokens, money, "chat"), cost_centre=centre)


ROWS = [
    team_line(600, "1.20", ""),  # team-x, metered at the gateway; its cost centre comes from the next row
    team_line(400, "0.80", "CC-1"),
    line(UNKNOWN, "acc-team", "d1", 500, "1.00", "chat"),  # acc-team is alpha's by tag
    line(UNKNOWN, "", "", 50, "0.10", "g-chat"),  # the gamma service is one team's
    line(UNKNOWN, "acc-shared", "gpt-4o", 200, "0.40", "chat"),
    line(UNMETERED, "ghost", "", 70, "0.14"),  # the shared gateway's unmetered API 'raw' reaches it
    line(UNMETERED, "acc-orphan", "d3", 100, None),  # no API reaches it unmetered: never reached the gateway
    line(OVER_METERED, "", "", -40, "-0.08"),
]


def test_the_statement_sums_rows_per_line_to_hand_computed_figures():
    from aoai_audit.attribution.summary import statement_dict

    st = statement_dict(_ctx(ROWS))
    assert st is not None and st["currency"] == "EUR" and st["total_of"] == "platform tokens"
    got = [(ln["line"], ln["name"], ln["dimension"], ln["cost_centre"], ln["tokens"], ln["money"],
            ln["unpriced_tokens"], ln["unpriced_models"], ln["apis"], ln["accounts"]) for ln in st["lines"]]
    assert got == [
        ("team", "team-x", "Team", "CC-1", 1_000, "2.00", 0, [], [], []),
        ("team", "alpha", "owner (tag)", "alpha", 500, "1.00", 0, [], [], []),
        ("team", "gamma", "owner (service)", "gamma", 50, "0.10", 0, [], [], []),
        ("unknown", "unknown bucket (metered, no team)", "", "", 200, "0.40", 0, [], [], []),
        ("passed-gateway-unmetered", "passed the gateway unmetered", "", "", 70, "0.14", 0, [], ["raw"], ["ghost"]),
        ("never-reached-gateway", "never reached the gateway", "", "", 100, "0.00", 100, ["gpt-4o"], [],
         ["acc-orphan"]),
        ("over-metered", "over-metered by the gateway (taken back)", "", "", -40, "-0.08", 0, [], [], []),
    ]
    # 1,000 + 500 + 50 + 200 + 70 + 100 - 40 tokens; 2.00 + 1.00 + 0.10 + 0.40 + 0.14 - 0.08 in money
    assert (st["total"]["tokens"], st["total"]["money"], st["total"]["unpriced_tokens"]) == (1_880, "3.56", 100)
    assert (st["went_to_no_team"]["tokens"], st["went_to_no_team"]["money"]) == (370, "0.54")


def test_lines_with_nothing_on_them_are_shown_at_zero_with_no_dimension():
    from aoai_audit.attribution.summary import statement_dict

    st = statement_dict(_ctx(ROWS[:1]))
    assert [(ln["line"], ln["dimension"], ln["tokens"], ln["money"]) for ln in st["lines"]] == [
        ("team", "Team", 600, "1.20"), ("unknown", "", 0, "0.00"), ("passed-gateway-unmetered", "", 0, "0.00"),
        ("never-reached-gateway", "", 0, "0.00"), ("over-metered", "", 0, "0.00")]
    assert st["total"]["dimension"] == ""


def test_the_attribution_block_states_money_by_path_and_each_deployment():
    from aoai_audit.attribution.summary import attribution_dict, money_line

    doc = attribution_dict(_ctx(ROWS))
    team = next(d for d in doc["deployments"] if d["account"] == "acc-team")
    assert team == {"account": "acc-team", "deployment": "d1", "resource": RID + "acc-team/deployments/d1",
                    "path": BY_RESOURCE, "via": "tag", "owner": "alpha", "owner_how": ALPHA.how, "gateways": [],
                    "projects": [], "sku": "", "reason": "tagged"}
    m = doc["money"]
    assert [(b["bucket"], b["tokens"], b["money"]) for b in m["buckets"]] == [
        (AT_GATEWAY, 1_000, 2.0), (BY_RESOURCE_BUCKET, 550, 1.1), (SHARED_BUCKET, 270, 0.54),
        (NO_OWNER_BUCKET, 100, 0.0), (OVER_BUCKET, -40, -0.08)]
    assert (m["total"]["tokens"], m["total"]["money"], m["went_to_no_team"]["tokens"]) == (1_880, 3.56, 370)
    assert money_line(doc) == (
        f"money by path: {AT_GATEWAY} EUR 2.00 (1,000 tokens); {BY_RESOURCE_BUCKET} EUR 1.10 (550 tokens); "
        f"{SHARED_BUCKET} EUR 0.54 (270 tokens); {NO_OWNER_BUCKET} EUR 0.00 (100 tokens); "
        f"{OVER_BUCKET} EUR -0.08 (-40 tokens); went to no team (the two not-attributable buckets) EUR 0.54 "
        "(370 tokens) of EUR 3.56, of which metered with no consumer value (unknown bucket) EUR 0.40 (200 tokens); "
        "not metered by any gateway (platform − gateway) EUR 0.14 (170 tokens)")
    assert money_line({"money": None}) == ""


def test_kq001_counts_only_unknown_tokens_that_went_to_no_team():
    """Unknown-value tokens through a gateway one team owns are that team's (attributed by resource): KQ001 states
    the rest, and where it came from, largest first."""
    from aoai_audit.checks import kq001_unknown_bucket
    from aoai_audit.findings import Money
    from aoai_audit.usage.tally import Tally

    rows = [line(UNKNOWN, "", "", 300, "0.30", "g-chat"),  # the gamma service is one team's: not "no team"
            line(UNKNOWN, "acc-shared", "gpt-4o", 100, "0.10", "chat2"),
            dataclasses.replace(line(UNKNOWN, "acc-shared", "gpt-4o", 200, "0.20", "chat"), product="gold"),
            line(CONSUMER, "acc-shared", "gpt-4o", 400, "0.40", "chat")]
    ctx = _ctx(rows)
    ctx = dataclasses.replace(ctx, usage=dataclasses.replace(ctx.usage, gateway=Tally(1_000, Decimal("1.00")),
                                                             unknown=Tally(600, Decimal("0.60"))))
    (f,) = kq001_unknown_bucket.check(ctx)
    # 200 + 100 of the 1,000 platform tokens: 30%
    assert f.message == ("30.0% of platform tokens (300 tokens, EUR 0.30) went to no team, above the 5% threshold; "
                         "most came from api 'chat' via product 'gold', api 'chat2'")
    assert (f.tokens, f.money) == (300, Money(0.3, "EUR"))
    assert list(f.evidence[:2]) == ["api 'chat' via product 'gold': 200 tokens", "api 'chat2': 100 tokens"]


def test_kq003_per_deployment_or_account_with_direction_days_and_evidence():
    import datetime as dt

    from aoai_audit.checks import kq003_gateway_platform_mismatch
    from aoai_audit.usage.tally import Reconciliation

    days = [dt.date(2026, 11, d) for d in range(1, 12)]
    recs = ([Reconciliation("gpt-4o", d, 100, 110) for d in days]  # 10 more each day: 9.1% > 5%
            + [Reconciliation("", days[0], 20, 19, "acc"),  # 1 less: 5.0%, not above the threshold
               Reconciliation("", days[1], 19, 20, "acc"),  # 1 more: 5.0% (1/20), not above either
               Reconciliation("", days[2], 10, 11, "acc"),  # 1 more: 9.1%
               Reconciliation("", days[3], 30, 10)])  # 20 less on accounts not in the estate
    ctx = _ctx(ROWS[:1])
    ctx = dataclasses.replace(ctx, usage=dataclasses.replace(ctx.usage, reconciliation=recs, files=("u.csv",)))
    got = {f.resource: f for f in kq003_gateway_platform_mismatch.check(ctx)}
    dep = got["usage/reconciliation/gpt-4o"]
    assert dep.message == ("deployment 'gpt-4o': the platform reported 110 tokens more than the gateway metered on 11 "
                           "day(s) (2026-11-01, 2026-11-02, 2026-11-03, 2026-11-04, 2026-11-05, 2026-11-06, "
                           "2026-11-07 …)")
    assert len(dep.evidence) == 10 and dep.evidence[0] == "2026-11-01: gateway 100, platform 110 (9.1%)"
    assert got["usage/reconciliation/acc"].message == (
        "account 'acc': the platform reported 1 tokens more than the gateway metered on 1 day(s) (2026-11-03)")
    assert got["usage/reconciliation/all"].message == (
        "accounts not in the estate: the platform reported 20 tokens less than the gateway metered on 1 day(s) "
        "(2026-11-04)")
    assert (dep.tokens, got["usage/reconciliation/all"].tokens) == (110, 20) and len(got) == 3


def test_kq001_names_three_sources_and_lists_five():
    from aoai_audit.checks import kq001_unknown_bucket
    from aoai_audit.usage.tally import Tally

    rows = [line(UNKNOWN, "acc-shared", "gpt-4o", n, "0.01", f"a{i}") for i, n in enumerate((60, 50, 40, 30, 20, 10), 1)]
    rows.append(line(UNKNOWN, "", "", 5, "0.01", "g-chat"))  # the gamma service's own: not counted
    ctx = _ctx(rows)
    ctx = dataclasses.replace(ctx, usage=dataclasses.replace(ctx.usage, gateway=Tally(215, Decimal("0.07"))))
    (f,) = kq001_unknown_bucket.check(ctx)
    assert f.message.endswith("most came from api 'a1', api 'a2', api 'a3'") and f.tokens == 210
    assert list(f.evidence[:5]) == [f"api 'a{i}': {n} tokens" for i, n in enumerate((60, 50, 40, 30, 20), 1)]
    assert len(f.evidence) == 6
    no_gateway = dataclasses.replace(ctx, usage=dataclasses.replace(ctx.usage, gateway=Tally()))
    assert list(kq001_unknown_bucket.check(no_gateway)) == []
