"""The helpers the rules share, branch by branch: deployments reported once per account when they fail alike
(OW rules), and where an unreadable input is located (AU001) (issue 29)."""

from __future__ import annotations

import dataclasses

from aoai_audit.attribution.model import NO_OWNER, Architecture, AttributionModel, DeploymentPath
from aoai_audit.checks import au001_not_readable
from aoai_audit.checks._ownership import grouped
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import AiAccount, Estate
from aoai_audit.findings import Location, Money
from aoai_audit.gaps import CollectionGap
from aoai_audit.policy.tree import Origin

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
HELD = AiAccount(RID + "held", "held", origin=Origin("main.bicep", 12))


def dep(account: str, deployment: str, reason: str = "no tag") -> DeploymentPath:
    return DeploymentPath(account, RID + account, deployment, NO_OWNER, reason)


def run(*deps: DeploymentPath, failing=lambda d: True):
    model = AttributionModel(deps, (), Architecture("a", "b"))
    ctx = dataclasses.replace(build_context(Estate(accounts=(HELD,)), Settings()), attribution=model)
    return [(resource, label, [d.deployment for d in group], where) for resource, label, group, where
            in grouped(ctx, failing)]


def test_deployments_that_fail_alike_are_one_finding_on_their_account():
    assert run(dep("held", "d1"), dep("held", "d2")) == [
        (RID + "held", "account 'held' (deployment(s) d1, d2)", ["d1", "d2"],
         Location("main.bicep", 12, RID + "held"))]


def test_an_account_outside_the_estate_is_named_and_located_by_its_id():
    assert run(dep("gone", "d1")) == [
        (RID + "gone", "account 'gone' (deployment(s) d1)", ["d1"], Location(resource_id=RID + "gone"))]


def test_a_whole_account_path_names_no_deployment():
    assert run(dep("held", ""))[0][1] == "account 'held'"


def test_deployments_failing_for_different_reasons_or_only_some_are_reported_one_by_one():
    apart = run(dep("held", "d1", "no tag"), dep("held", "d2", "two tags"))
    assert [(r, label) for r, label, _d, _w in apart] == [
        (RID + "held/deployments/d1", "deployment 'd1' of account 'held'"),
        (RID + "held/deployments/d2", "deployment 'd2' of account 'held'")]
    some = run(dep("held", "d1"), dep("held", "d2"), failing=lambda d: d.deployment == "d2")
    assert [(r, w) for r, _label, _d, w in some] == [(RID + "held/deployments/d2", Location("main.bicep", 12, RID + "held"))]
    assert run(dep("held", "d1"), failing=lambda d: False) == []


def test_an_unreadable_input_is_located_in_its_file_or_at_its_resource():
    gaps = (CollectionGap("unparseable", "bad.xml", "not XML", line=3),
            CollectionGap("unreadable", "apis/chat/policy.xml", "permission denied", line=7),
            CollectionGap("unreadable", RID + "held", "cannot list deployments", status=403, needs="Reader"),
            CollectionGap("unreadable", "https://example.com/spec.json", "linked spec not fetched"))
    ctx = build_context(Estate(gaps=gaps), Settings())
    got = [(f.resource, f.message, f.location) for f in au001_not_readable.check(ctx)]
    assert got == [
        ("apis/chat/policy.xml", "not audited: permission denied", Location("apis/chat/policy.xml", 7, None)),
        (RID + "held", "not audited: 403: cannot list deployments; needs Reader", Location(None, None, RID + "held")),
        ("https://example.com/spec.json", "not audited: linked spec not fetched",
         Location(None, None, "https://example.com/spec.json")),
    ]


# ---- how a rule folds failing operations × products into findings (checks/_support.py) -------------------------------
def _view(ops: tuple[str, ...], products: tuple[str | None, ...], display: str = ""):
    from aoai_audit.estate import Api, ApimService
    from aoai_audit.resolve.classify import LlmVerdict
    from aoai_audit.resolve.effective import EffectivePolicy, ScopeStep
    from aoai_audit.resolve.views import ApiView

    api = Api("chat", display, origin=Origin("apis/chat/apiInformation.json"))
    eps = tuple(EffectivePolicy("apim", "chat", op, p, (ScopeStep("api", "chat", None),), {}) for op in ops
                for p in products)
    return ApiView(ApimService("apim"), api, LlmVerdict(True, ("r",)), eps, ())


def test_the_product_context_is_named_only_when_there_are_several_ways_in():
    from aoai_audit.checks._support import context_of

    assert context_of(_view(("a",), ("gold",)), "gold") == ""
    assert context_of(_view(("a",), ("gold", None)), "gold") == "via product 'gold'"
    assert context_of(_view(("a",), ("gold", None)), None) == "without a product"


def test_operations_are_listed_five_at_most():
    from aoai_audit.checks._support import ops_label

    six = _view(("a", "b", "c", "d", "e", "f"), (None,))
    assert ops_label(list(six.effective)) == "operation(s) a, b, c, d, e and 1 more"
    assert ops_label(list(six.effective)[:5]) == "operation(s) a, b, c, d, e"
    assert ops_label(list(_view(("",), (None,)).effective)) == "the API"


def test_failures_fold_into_one_finding_per_product_set_and_operation_set():
    from aoai_audit.checks._support import api_label, group_failures

    view = _view(("a", "b"), ("gold", "silver"))
    everywhere = group_failures(view, view.effective)
    assert [(g.resource, g.context, g.how, g.calls, g.operations) for g in everywhere] == [
        ("service/apim/apis/chat", "", "", "its calls", ["a", "b"])]
    assert everywhere[0].origin == Origin("apis/chat/apiInformation.json")  # no policy of its own: where it is declared
    gold_a = [ep for ep in view.effective if (ep.operation, ep.product) == ("a", "gold")]
    (one,) = group_failures(view, gold_a)
    assert (one.resource, one.context, one.how, one.calls) == (
        "service/apim/apis/chat/operations/a", "via product 'gold'", " when called via product 'gold'",
        "operation(s) a")
    assert group_failures(view, []) == []
    assert (api_label(view), api_label(_view(("a",), (None,), display="Chat API"))) == (
        "LLM API 'chat'", "LLM API 'Chat API'")


def test_a_tally_is_written_as_a_chargeback_sheet_writes_it():
    from decimal import Decimal

    from aoai_audit.checks._usage import LIVE_USAGE, as_money, tally_text, usage_location
    from aoai_audit.usage.tally import Tally

    exact = Tally(1_234_567, Decimal("12.345"), 0, Decimal("12.345"), Decimal("12.345"))
    assert tally_text(exact, "EUR") == "1,234,567 tokens, EUR 12.35"
    ranged = Tally(2_000, Decimal("1.5"), 300, Decimal("1"), Decimal("2.004"))
    assert tally_text(ranged, "USD") == "2,000 tokens, USD 1.50 (range USD 1.00..USD 2.00) (+300 tokens with no price)"
    assert as_money(exact, "EUR") == Money(12.35, "EUR")
    empty = score_empty()
    assert usage_location(dataclasses.replace(empty, files=())) == Location(resource_id=LIVE_USAGE)
    assert usage_location(dataclasses.replace(empty, files=("u.csv", "p.json"))) == Location("u.csv")


def score_empty():
    from aoai_audit.usage.model import UsageData
    from aoai_audit.usage.prices import PriceTable
    from aoai_audit.usage.score import score_usage

    return score_usage(UsageData(rows=(), origin="t"), Estate(), PriceTable(()))


def test_an_unparseable_input_is_located_and_a_broken_policy_is_named_by_its_scope():
    from aoai_audit.checks import au002_unparseable_input
    from aoai_audit.estate import Api, ApimService
    from aoai_audit.policy.rawxml import read_policy

    broken = read_policy("<policies><inbound>", scope="api", label="api 'chat'")
    gaps = (CollectionGap("unparseable", "apis/x/policy.xml", "not XML", line=3),
            CollectionGap("unreadable", "apis/y/policy.xml", "permission denied"),
            CollectionGap("unparseable", RID + "held", "expression not evaluated", resource="service/apim"))
    ctx = build_context(Estate(services=(ApimService("apim", apis=(Api("chat", policy=broken),)),), gaps=gaps),
                        Settings())
    got = [(f.resource, f.message, f.location) for f in au002_unparseable_input.check(ctx)]
    assert got[:2] == [
        ("apis/x/policy.xml", "not audited: not XML", Location("apis/x/policy.xml", 3, None)),
        ("service/apim", "not audited: expression not evaluated", Location(None, None, RID + "held"))]
    assert got[2][0] == "service/apim/apis/chat" and got[2][1].startswith("not audited: api 'chat': ")
    assert len(got) == 3


def test_ow002_names_four_of_the_projects_or_team_gateways_sharing_a_deployment():
    from aoai_audit.attribution.model import SHARED, Gateway, Owner
    from aoai_audit.checks import ow002_shared_unmetered

    def shared(name: str, **more) -> DeploymentPath:
        return DeploymentPath("held", RID + "held", name, SHARED, "shared", **more)

    teams = tuple(Gateway(f"g{i}", None, Owner(f"t{i}", "service", "tag"), (), (), ()) for i in range(1, 6))
    open_gw = Gateway("g0", None, None, (), (), ())
    deps = (shared("d1", projects=("p1", "p2", "p3", "p4", "p5")), shared("d2", gateways=teams),
            shared("d3", gateways=(open_gw, teams[0])))
    model = AttributionModel(deps, (), Architecture("a", "b"))
    ctx = dataclasses.replace(build_context(Estate(accounts=(HELD,)), Settings()), attribution=model)
    got = [(f.resource, f.message) for f in ow002_shared_unmetered.check(ctx)]
    assert got == [
        (RID + "held/deployments/d1", "deployment 'd1' of account 'held' is shared by 5 Foundry projects (p1, p2, p3, "
                                      "p4) and no meter tells them apart, so its cost goes to no team"),
        (RID + "held/deployments/d2", "deployment 'd2' of account 'held' is shared by 5 team gateways (APIM service "
                                      "'g1', APIM service 'g2', APIM service 'g3', APIM service 'g4') and no meter "
                                      "tells them apart, so its cost goes to no team")]
