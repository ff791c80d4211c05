"""DG, RB and BY rules on estates in the snapshot format (what a live collection reads)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, audit

F = "tests/fixtures/rules/live-estates"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
RG = f"{SUB}/resourceGroups/rg-ai"

EXPECTED = {
    "DG001": {f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-eastus"},
    "DG002": {"service/contoso-apim"},
    "DG003": {f"{RG}/providers/Microsoft.ApiManagement/service/contoso-apim"},
    "DG004": {"service/contoso-apim"},
    "RB001": {f"{RG}/providers/Microsoft.Insights/components/contoso-ai"},
    "RB002": {SUB},
    "RB003": {f"{RG}/providers/Microsoft.OperationalInsights/workspaces/contoso-logs"},
    "RB004": {RG},
    "RB005": {f"{SUB}/resourceGroups/rg-other/providers/Microsoft.CognitiveServices/accounts/aoai-west"},
    "BY001": {f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-eastus"},
}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_rule_fires_exactly(rule_id, registry):
    result = audit(f"{F}/{rule_id}.json", registry, only=(rule_id,))
    assert {f.resource for f in result.findings if f.rule_id == rule_id} == EXPECTED[rule_id]


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_rule_passes_on_a_well_built_tenant(rule_id, registry):
    result = audit(f"{F}/passes.json", registry, only=(rule_id,))
    assert not result.findings
    assert not result.not_evaluated and result.estate.accounts and result.estate.role_assignments


def test_dg002_names_the_missing_category(registry):
    (finding,) = audit(f"{F}/DG002.json", registry, only=("DG002",)).findings
    assert "GatewayLlmLogs" in finding.message and "GatewayLogs and" not in finding.message


def test_rb003_judges_a_custom_role_by_its_actions(registry):
    """The custom role grants metrics and cost reads (RB001/RB002 pass) but not log queries (RB003 fires)."""
    result = audit(f"{F}/RB003.json", registry, only=("RB001", "RB002", "RB003"))
    assert {f.rule_id for f in result.findings} == {"RB003"}


def test_rb004_names_the_role_and_what_it_can_do(registry):
    (finding,) = audit(f"{F}/RB004.json", registry, only=("RB004",)).findings
    assert "'Contributor'" in finding.message and "write resources" in finding.message
    assert "assign roles" not in finding.message  # Contributor's notActions exclude Microsoft.Authorization/*/Write


def test_rb_rules_need_a_reader_principal(registry, tmp_path):
    doc = json.loads((ROOT / f"{F}/RB001.json").read_text())
    doc["estate"].pop("reader_principal")
    path = tmp_path / "no-reader.json"
    path.write_text(json.dumps(doc))
    result = audit(str(path), registry, only=("RB001",))
    assert [n.rule.id for n in result.not_evaluated] == ["RB001"] and not result.findings
    given = audit(str(path), registry, only=("RB001",), reader_principal="11111111-2222-3333-4444-555555555555")
    assert [f.rule_id for f in given.findings] == ["RB001"]


def test_live_rules_are_not_evaluated_on_apiops(registry):
    """An APIOps folder carries no accounts, settings or roles: listed as not evaluated, never as passed."""
    result = audit("fixtures/example/contoso-apim", registry)
    missing = {n.rule.id for n in result.not_evaluated}
    assert {"DG001", "DG003", "RB001", "RB002", "RB003", "RB004", "RB005", "BY001"} <= missing
    assert "DG004" not in missing  # APIM diagnostics are in the APIOps tree
    # DG002 is judged on the part the tree carries (the azuremonitor diagnostic), and says what it did not judge
    assert "DG002" not in missing
    (partly,) = [n for n in result.partly_evaluated if n.rule.id == "DG002"]
    assert "diagnostic settings sending GatewayLogs and GatewayLlmLogs not judged (needs diagnostic-settings)" in partly.reason


def test_fixtures_are_current(tmp_path, monkeypatch):
    """The committed fixtures are what the generator writes (the estate model did not drift)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", ROOT / "tests/fixtures/rules/make_estate_fixtures.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "HERE", tmp_path)
    gen.main()
    for written in (tmp_path / "live-estates").iterdir():
        committed = json.loads((ROOT / F / written.name).read_text())
        fresh = json.loads(written.read_text())
        committed.pop("tool"), fresh.pop("tool")
        assert fresh == committed, f"{written.name}: run tests/fixtures/rules/make_estate_fixtures.py"
