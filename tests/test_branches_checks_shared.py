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
from aoai_audit.findings import Location
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
