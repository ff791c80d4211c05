"""The usage inputs at their edges: cost-centre map spellings and errors, account ids in metric ids (issue 29).

Expected texts and ids are written here from the documented shapes (ARM resource ids, the map's README
columns), never read back from the reader under test.
"""

from __future__ import annotations

import pytest

from aoai_audit.usage.costcentres import CostCentreError, load_cost_centres
from aoai_audit.usage.files import _account_id

RID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-eus"


def _load(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return load_cost_centres(str(path))


def test_the_american_spelling_of_cost_centre_is_read(tmp_path):
    (entry,) = _load(tmp_path, "m.yaml", "cost_centers:\n  - consumer: marketing\n    cost_center: CC-1\n").entries
    assert (entry.kind, entry.value, entry.cost_centre) == ("consumer", "marketing", "CC-1")


def test_a_csv_map_by_kind_and_value(tmp_path):
    got = _load(tmp_path, "m.csv", "Kind,Value,Cost_Centre,Owner\naccount,aoai-*,CC-2,ops@contoso.com\n").entries
    assert [(e.kind, e.value, e.cost_centre, e.owner) for e in got] == [("account", "aoai-*", "CC-2", "ops@contoso.com")]


def test_invalid_yaml_names_the_file_and_line(tmp_path):
    with pytest.raises(CostCentreError) as err:
        _load(tmp_path, "bad.yaml", "cost_centres:\n  - consumer: a\n    cost_centre: [unclosed\n")
    assert str(err.value).startswith(f"{tmp_path / 'bad.yaml'}:4: invalid YAML: ")


@pytest.mark.parametrize(("text", "says"), [
    ("- consumer: a\n", "cost_centre is empty"),
    ("- {consumer: a, account: b, cost_centre: C}\n", "give exactly one of"),
    ("- {tag: '=x', cost_centre: C}\n", "tag needs a name"),
    ("- {account: a, cost_centre: '{value}'}\n", "cost_centre {value} takes a tag's value: only for tag entries"),
    ("- {account: a, dimension: Team, cost_centre: C}\n", "dimension applies to usage entries"),
    ("- {consumer: [a], cost_centre: C}\n", "consumer must be a non-empty text"),
    ("- not a mapping\n", "cost_centres[0] is not a mapping"),
])
def test_a_bad_entry_is_named_with_its_place(tmp_path, text, says):
    with pytest.raises(CostCentreError) as err:
        _load(tmp_path, "m.yaml", text)
    assert says in str(err.value) and "m.yaml" in str(err.value)


@pytest.mark.parametrize(("resource_id", "account"), [
    (RID + "/providers/Microsoft.Insights/metrics/InputTokens", RID),
    (RID + "/deployments/gpt-4o", RID),
    (RID, RID),
    (RID.replace("resourceGroups", "resourcegroups"), RID.replace("resourceGroups", "resourcegroups")),
    (RID.replace("resourceGroups", "resourceGroupsX"), ""),  # not an ARM id
    (RID.replace("/providers/", "/provider/"), ""),
    (RID.replace("Microsoft.CognitiveServices", "Microsoft.Web"), ""),
    (RID.replace("/accounts/", "/workspaces/"), ""),
    (RID.replace("/rg/", "//"), ""),
    ("subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a", ""),
    (RID.rsplit("/", 1)[0] + "/", ""),  # no account name
])
def test_the_account_id_inside_a_metric_or_deployment_id(resource_id, account):
    assert _account_id(resource_id) == account


# ---- usage rows: the values that mean nobody, the window a file is cut to ---------------------------------------------
@pytest.mark.parametrize("value", [None, "", " Unknown ", "null", "NONE", "n/a", "NA", "-", "undefined", "(none)",
                                   "(not set)", "nobody"])
def test_values_that_mean_nobody_are_the_unknown_bucket(value):
    from aoai_audit.usage.score import _is_unknown

    assert _is_unknown(value, frozenset({"nobody"}))


@pytest.mark.parametrize("value", ["team-a", "unknownteam", "n", "0"])
def test_a_named_value_is_a_consumer(value):
    from aoai_audit.usage.score import _is_unknown

    assert not _is_unknown(value, frozenset({"nobody"}))


def test_cutting_to_a_window_says_how_many_rows_fell_outside_and_what_the_files_hold():
    import dataclasses
    import datetime as dt

    from aoai_audit.usage.model import UsageData, UsageRow

    days = [dt.date(2026, 11, d) for d in (1, 2, 3, 5)]
    data = UsageData(tuple(UsageRow(d, input_tokens=1) for d in days), (days[0], days[-1]), "f.csv", notes=("n",))
    cut = data.within(dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    assert [r.day for r in cut.rows] == days[1:3] and cut.window == (days[1], days[2])
    assert cut.notes == ("n", "2 usage row(s) outside the window 2026-11-02 to 2026-11-03 were left out "
                              "(the files hold 2026-11-01 to 2026-11-05)")
    assert data.within(days[0], days[-1]).notes == ("n",)
    row = data.rows[0]
    with pytest.raises(dataclasses.FrozenInstanceError):  # rows are shared by every phase: never changed in place
        row.input_tokens = 2  # type: ignore[misc]
    assert len({row, UsageRow(days[0], input_tokens=1)}) == 1


# ---- usage rows against the estate by name ------------------------------------------------------------------------------
def _estate(*rows, services=("apim",), folder=True):
    import datetime as dt

    from aoai_audit.estate import Api, ApimService, Estate, SourceInfo
    from aoai_audit.estate_identity import FOLDER_NAMED
    from aoai_audit.usage.model import UsageData, UsageRow

    day = dt.date(2026, 11, 1)
    source = SourceInfo("apiops", "extract/", frozenset(), detail=FOLDER_NAMED + " 'extract'" if folder else None)
    return Estate(sources=(source,), services=tuple(ApimService(s, apis=(Api("chat"), Api("embed"))) for s in services),
                  usage=UsageData(tuple(UsageRow(day, input_tokens=1, **r) for r in rows)))


def test_a_list_of_names_shows_five_and_counts_the_rest():
    from aoai_audit.usage.names import _shown

    assert _shown({"a", "b", "c", "d", "e"}) == "'a', 'b', 'c', 'd', 'e'"
    assert _shown({"g", "f", "e", "d", "c", "b", "a"}) == "'a', 'b', 'c', 'd', 'e' and 2 more"


def test_a_folder_named_service_takes_the_one_name_the_usage_gives():
    from aoai_audit.usage.names import adopt_usage_service_name

    renamed, note = adopt_usage_service_name(_estate({"service": "apim-prod", "api": "Chat"}, {"api": ""}))
    assert [s.name for s in renamed.services] == ["apim-prod"]
    assert note.startswith("service name 'apim-prod' taken from the usage files, which name it and its APIs; "
                           "the APIOps folder is called 'apim'")
    for estate in (_estate({"service": "a", "api": "chat"}, {"service": "b", "api": "chat"}),  # two services named
                   _estate({"service": "apim-prod", "api": "chat"}, folder=False),  # the folder had a name
                   _estate({"service": "apim-prod", "api": "other"}),  # an API the folder lacks
                   _estate({"service": "apim-prod", "api": "chat"}, services=("a", "b")),
                   _estate({"service": "apim-prod"})):  # no API named
        assert adopt_usage_service_name(estate) == (estate, None)


def test_names_the_estate_lacks_are_warned_about_once_per_kind():
    from aoai_audit.usage.names import unmatched_names

    got = unmatched_names(_estate({"service": "other", "api": "x"}, {"service": "apim", "api": "ghost"},
                                  {"api": "nowhere"}, {"api": ""}, {"service": "apim", "api": "CHAT"}))
    assert got == [
        "usage rows name APIM service(s) 'other' that the estate does not have (it has apim): their tokens reach no "
        "API of the estate, so they are priced without their backend and no finding counts them; audit the estate "
        "those rows came from, or set --service-name",
        "usage rows name API(s) 'apim/ghost', 'nowhere' that the estate does not have: their tokens are priced "
        "without their backend and no finding counts them"]
    # without services nothing can be matched, so nothing is warned about; platform rows name no API
    assert unmatched_names(_estate({"api": "nowhere"}, {"service": "x"}, services=())) == []
    assert unmatched_names(_estate({"source": "platform", "api": "nowhere"})) == []


def test_accounts_the_estate_neither_holds_nor_reaches_are_warned_about():
    import dataclasses

    from aoai_audit.estate import AiAccount, Estate
    from aoai_audit.usage.names import unmatched_names

    estate = dataclasses.replace(_estate({"account": "ghost"}, {"account": "AOAI-EUS"}, {"account": "reached"}, {}),
                                 accounts=(AiAccount(RID, "aoai-eus"),))
    assert unmatched_names(estate, frozenset({"/subscriptions/s/x/accounts/reached"})) == [
        "usage rows name account(s) 'ghost' that the estate neither holds nor reaches through an API's backend: "
        "their tokens cannot be put on a path (no owner)"]
    assert unmatched_names(Estate()) == []
