"""The cost-centre map keyed by resource (account, deployment, service, workspace, tag) as well as by consumer."""

from __future__ import annotations

import datetime as dt

import pytest

from aoai_audit.usage.costcentres import CostCentreError, load_cost_centres
from aoai_audit.usage.model import UsageRow
from conftest import ROOT

MAP = """\
cost_centres:
  - consumer: marketing
    dimension: Team
    cost_centre: CC-4100
  - account: aoai-research
    cost_centre: CC-4200
    owner: research@contoso.com
  - deployment: aoai-shared/gpt-4o-legal
    cost_centre: CC-4300
  - service: apim-finance
    cost_centre: CC-4400
  - workspace: apim-shared/team-b
    cost_centre: CC-4500
  - tag: {team: data-*}
    cost_centre: CC-4600
  - tag: CostCenter
    cost_centre: "{value}"
    owner: "owner of {value}"
"""


@pytest.fixture()
def centres(tmp_path):
    path = tmp_path / "centres.yaml"
    path.write_text(MAP)
    return load_cost_centres(str(path))


def test_each_resource_kind_finds_its_owner(centres):
    assert centres.of_account("aoai-research").cost_centre == "CC-4200"
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-other"
    assert centres.of_account("aoai-other", rid) is None
    assert centres.of_deployment("aoai-shared", "gpt-4o-legal").cost_centre == "CC-4300"
    assert centres.of_deployment("aoai-shared", "gpt-4o") is None  # the account's other deployments: unknown
    assert centres.of_service("apim-finance").cost_centre == "CC-4400"
    assert centres.of_workspace("apim-shared", "team-b").cost_centre == "CC-4500"
    assert centres.of_workspace("apim-shared", "team-a") is None


def test_tags_match_by_name_case_insensitively_and_value_as_written(centres):
    assert centres.of_account("x", tags=(("Team", "data-science"),)).cost_centre == "CC-4600"
    assert centres.of_account("x", tags=(("team", "Data-Science"),)) is None  # values are case-sensitive
    found = centres.of_deployment("a", "d", tags=(("costcenter", "CC-9001"),))
    assert (found.cost_centre, found.owner) == ("CC-9001", "owner of CC-9001")  # the tag's value is the centre
    assert centres.of_account("x", tags=(("CostCenter", "  "),)) is None  # an empty tag names no one


def test_resource_entries_never_map_usage_rows(centres):
    """A consumer value that happens to equal an account name is still a consumer: only consumer kinds map rows."""
    row = UsageRow(dt.date(2026, 1, 1), dimension="Team", consumer="aoai-research")
    assert centres.lookup(row) is None
    assert centres.lookup(UsageRow(dt.date(2026, 1, 1), dimension="Team", consumer="marketing")).cost_centre == "CC-4100"


def test_the_shipped_consumer_map_is_still_valid():
    centres = load_cost_centres(str(ROOT / "fixtures" / "example" / "cost-centres.yaml"))
    assert [(e.kind, e.value) for e in centres.entries] == [("consumer", "marketing"), ("consumer", "research")]


def test_csv_takes_resource_kinds(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text("kind,value,cost_centre,owner\naccount,aoai-*,CC-1,a@b\ntag,env=prod,CC-2,\n")
    centres = load_cost_centres(str(path))
    assert centres.of_account("aoai-x").cost_centre == "CC-1"
    assert centres.of_service("s", tags=(("ENV", "prod"),)).cost_centre == "CC-2"


@pytest.mark.parametrize(("entry", "message"), [
    ("  - tag: '=x'\n    cost_centre: C\n", "tag needs a name"),
    ("  - account: a\n    dimension: Team\n    cost_centre: C\n", "dimension applies to usage entries"),
    ("  - account: a\n    cost_centre: '{value}'\n", r"\{value\} takes a tag's value"),
    ("  - workspace: ''\n    cost_centre: C\n", "give exactly one of"),
])
def test_bad_entries_name_the_file_and_entry(tmp_path, entry, message):
    path = tmp_path / "bad.yaml"
    path.write_text("cost_centres:\n" + entry)
    with pytest.raises(CostCentreError, match=rf"bad.yaml: cost_centres\[0\]: .*{message}"):
        load_cost_centres(str(path))
