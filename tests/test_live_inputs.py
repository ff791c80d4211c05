"""Live collection of workspaces in full, tags, deployments' capacity and Foundry projects: the real Azure SDK
clients against the fake ARM serving the REST shapes."""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from conftest import FIXTURES, keyed
from fakearm import SUB, FakeARM, add_account, login_env, tenant_from_estate

FAST = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
EXTRACT = FIXTURES / "workspaces_apiops" / "apim-shared"


def _live(srv, **kw):
    return collect_live(LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST), **kw))


@pytest.fixture()
def tenant(monkeypatch):
    offline = load_paths([str(EXTRACT)])
    tenant = tenant_from_estate(offline)
    tenant["collections"][f"/subscriptions/{SUB}/providers/Microsoft.ApiManagement/service"][0]["tags"] = {
        "team": "platform"}
    add_account(tenant, "aoai-team-a", local_auth=False, public="Disabled", tags={"team": "team-a"},
                deployments=(("chat", "gpt-4o", "2024-11-20", "ProvisionedManaged", 50, {"CostCenter": "CC-1"}),
                             ("bulk", "gpt-4o", "2024-11-20", "GlobalBatch", 100)))
    add_account(tenant, "foundry", local_auth=False, public="Disabled", kind="AIServices",
                projects=(("research", {"team": "research"}), ("legal", {})))
    with FakeARM(tenant) as srv:
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv, offline


def test_workspace_children_are_read_live_and_marked(tenant, registry):
    srv, offline = tenant
    estate, _ = _live(srv)
    assert not estate.gaps, estate.gaps
    (svc,) = estate.services
    assert svc.tags == (("team", "platform"),)  # from the Resource Graph row
    assert sorted((b.name, b.workspace, b.url) for b in svc.backends) == [
        ("aoai-team", "team-a", "https://aoai-team-a.openai.azure.com/openai"),
        ("aoai-team", "team-b", "https://aoai-team-b.openai.azure.com/openai")]
    assert [(n.name, n.workspace, n.value) for n in svc.named_values] == [("team-name", "team-a", "team-a")]
    assert {(lg.name, lg.workspace) for lg in svc.loggers} == {("appinsights", None), ("ws-appinsights", "team-a")}
    assert {(d.name, d.api, d.workspace) for d in svc.diagnostics} == {
        ("applicationinsights", None, None), ("applicationinsights", None, "team-a")}
    assert [(p.name, p.workspace, p.apis) for p in svc.products] == [("team-a-chat", "team-a", ("chat",))]
    assert any(p.endswith("/workspaces/team-a/products/team-a-chat/apiLinks") for _m, p in srv.calls())
    assert srv.writes() == []
    # the same findings as the extract: source parity, workspaces included
    live = run_audit(estate, registry, Settings())
    files = run_audit(offline, registry, Settings())
    parity = {"TM001", "TM007", "TM008"}
    assert {k for k in keyed(live) if k[0] in parity} == {k for k in keyed(files) if k[0] in parity}
    assert ("TM007", "service/apim-shared/workspaces/team-b") in keyed(live)


def test_tags_capacity_and_projects_come_from_the_rest_shapes(tenant):
    srv, _ = tenant
    estate, _ = _live(srv)
    accounts = {a.name: a for a in estate.accounts}
    team = accounts["aoai-team-a"]
    assert team.tags == (("team", "team-a"),)
    deps = {d.name: d for d in team.deployments}
    assert (deps["chat"].sku, deps["chat"].capacity, deps["chat"].tags) == ("ProvisionedManaged", 50,
                                                                            (("CostCenter", "CC-1"),))
    assert (deps["bulk"].sku, deps["bulk"].capacity, deps["bulk"].tags) == ("GlobalBatch", 100, ())
    assert team.projects == ()  # an OpenAI account holds no projects: not asked
    assert not any(p.endswith("/aoai-team-a/projects") for _m, p in srv.calls())
    foundry = accounts["foundry"]
    assert [(p.name, p.tags) for p in foundry.projects] == [("research", (("team", "research"),)), ("legal", ())]
    assert foundry.projects[0].resource_id.endswith("/accounts/foundry/projects/research")
    graph = [r for r in srv.requests if r["path"].lower() == "/providers/microsoft.resourcegraph/resources"]
    assert graph and b"tags" in graph[0]["body"]  # discovery selects tags


def test_projects_that_cannot_be_read_are_a_gap_not_none(tenant):
    srv, _ = tenant
    srv.inject("GET", r"/accounts/foundry/projects$", (403, {}, {"error": {"code": "AuthorizationFailed",
                                                                            "message": "no read"}}))
    estate, _ = _live(srv)
    assert any(g.target.endswith("/accounts/foundry/projects") and g.status == 403 for g in estate.gaps)


def test_tags_capacity_projects_and_workspace_entities_survive_a_snapshot(tenant, tmp_path):
    from aoai_audit.snapshot import load_snapshot_bytes, write_snapshot

    srv, _ = tenant
    estate, _ = _live(srv)
    path = tmp_path / "estate.json"
    write_snapshot(estate, str(path))
    again, _meta = load_snapshot_bytes(path.read_bytes(), str(path))
    assert again.accounts == estate.accounts  # tags, capacity, projects: field for field
    assert again.services[0].tags == estate.services[0].tags
    assert again.services[0].named_values == estate.services[0].named_values
    assert again.services[0].backends == estate.services[0].backends
