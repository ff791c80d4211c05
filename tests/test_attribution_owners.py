"""Owner tags and the path of a deployment without a gateway, on estates built in memory (pure functions)."""

from __future__ import annotations

from aoai_audit.attribution import BY_RESOURCE, NO_OWNER, SHARED, build_model
from aoai_audit.attribution.owners import owner_by_tag
from aoai_audit.estate import AiAccount, Deployment, Estate, Project
from aoai_audit.usage.costcentres import CostCentre, CostCentreMap

TAGS = ("team", "cost-center")


def test_owner_tag_names_ignore_case_and_separators_and_placeholders_name_nobody():
    assert owner_by_tag((("Cost_Center", "CC-1"),), TAGS, "x").team == "CC-1"
    assert owner_by_tag((("TEAM", " alpha "),), TAGS, "x").team == "alpha"
    assert owner_by_tag((("team", "TBD"),), TAGS, "x") is None
    assert owner_by_tag((("owner", "jane@contoso.com"),), TAGS, "x") is None  # a person, not a team


def _path(account: AiAccount, centres=None):
    (d,) = build_model(Estate(accounts=(account,)), (), TAGS, centres).deployments
    return d


def test_projects_of_unknown_teams_share_the_deployment_unless_the_account_has_an_owner():
    dep = (Deployment("gpt4o", "gpt-4o"),)
    two = (Project("a"), Project("b"))
    assert _path(AiAccount("/x/acct", "acct", deployments=dep, projects=two)).path == SHARED
    owned = _path(AiAccount("/x/acct", "acct", deployments=dep, projects=two, tags=(("team", "alpha"),)))
    assert (owned.path, owned.owner.team) == (BY_RESOURCE, "alpha")
    split = (Project("a", tags=(("team", "alpha"),)), Project("b", tags=(("team", "beta"),)))
    assert _path(AiAccount("/x/acct", "acct", deployments=dep, projects=split, tags=(("team", "alpha"),))).path == SHARED


def test_a_cost_centre_map_entry_owns_an_account_the_tags_do_not_name():
    account = AiAccount("/x/acct-ml", "acct-ml", deployments=(Deployment("chat"),))
    assert _path(account).path == NO_OWNER
    centres = CostCentreMap((CostCentre("account", "acct-*", "CC-ML"),))
    mapped = _path(account, centres)
    assert (mapped.path, mapped.owner.team, mapped.owner.via) == (BY_RESOURCE, "CC-ML", "account")
