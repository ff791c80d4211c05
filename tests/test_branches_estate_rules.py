"""Rules on the estate's settings (DG, BY) branch by branch, on snapshot estates edited in the test (issue 29)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, audit

F = "tests/fixtures/rules/live-estates"
ACCOUNT = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai/providers/"
           "Microsoft.CognitiveServices/accounts/aoai-eastus")
WORKSPACE = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai/providers/"
             "Microsoft.OperationalInsights/workspaces/contoso-logs")


def setting(name, *, workspace=True, logs=True, metrics=True):
    return {"resource_id": ACCOUNT, "name": name, "workspace_id": WORKSPACE if workspace else None,
            "logs": [{"category": None, "category_group": "allLogs", "enabled": logs}],
            "metrics": [{"category": "AllMetrics", "category_group": None, "enabled": metrics}],
            "destination_type": None, "origin": {}}


def dg001(tmp_path, registry, *settings):
    doc = json.loads((ROOT / f"{F}/DG001.json").read_text())
    doc["estate"]["diagnostic_settings"] += list(settings)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    result = audit(str(path), registry, only=("DG001",))
    assert "DG001" not in {n.rule.id for n in result.not_evaluated}
    return [f for f in result.findings if f.rule_id == "DG001"]


def test_dg001_no_setting_on_the_account(tmp_path, registry):
    (f,) = dg001(tmp_path, registry)
    assert f.resource == ACCOUNT and "account 'aoai-eastus' has no diagnostic setting;" in f.message
    assert f.evidence == ()


def test_dg001_settings_to_no_workspace_are_named(tmp_path, registry):
    (f,) = dg001(tmp_path, registry, setting("to-storage", workspace=False))
    assert "has diagnostic settings, none to a Log Analytics workspace" in f.message
    assert f.evidence == ("setting 'to-storage': group allLogs; metrics on; no Log Analytics workspace",)


@pytest.mark.parametrize(("logs", "metrics", "says"), [(False, True, "sends no logs"), (True, False, "sends no metrics"),
                                                        (False, False, "sends no logs")])
def test_dg001_a_workspace_setting_missing_logs_or_metrics(tmp_path, registry, logs, metrics, says):
    (f,) = dg001(tmp_path, registry, setting("half", logs=logs, metrics=metrics))
    assert f"'aoai-eastus' {says} to Log Analytics" in f.message
    assert f"{WORKSPACE}" in f.evidence[0] and ("metrics on" if metrics else "metrics off") in f.evidence[0]


def test_dg001_logs_and_metrics_to_the_workspace_pass(tmp_path, registry):
    assert dg001(tmp_path, registry, setting("to-storage", workspace=False), setting("all")) == []


def test_dg001_logs_in_one_setting_and_metrics_in_another_both_reach_log_analytics(tmp_path, registry):
    assert dg001(tmp_path, registry, setting("logs", metrics=False), setting("metrics", logs=False)) == []


# ---- RB001: metrics where the token metrics live, judged on effective actions ---------------------------------------
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
INSIGHTS = f"{SUB}/resourceGroups/rg-ai/providers/Microsoft.Insights/components/contoso-ai"
MONITORING_READER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/43d0d8ad-25c7-4714-9337-8ba259a9fe05"


def rb001(tmp_path, registry, *, add=(), gaps=()):
    doc = json.loads((ROOT / f"{F}/RB001.json").read_text())
    doc["estate"]["role_assignments"] += [
        {"scope": scope, "role_definition_id": MONITORING_READER, "principal_id": doc["estate"]["reader_principal"],
         "principal_type": "ServicePrincipal", "origin": {}} for scope in add]
    doc["estate"]["gaps"] = list(gaps)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    result = audit(str(path), registry, only=("RB001",))
    return [f for f in result.findings if f.rule_id == "RB001"]


def test_rb001_names_the_metric_home_it_cannot_read(tmp_path, registry):
    (f,) = rb001(tmp_path, registry)
    assert f.resource == INSIGHTS and "cannot read metrics on contoso-ai" in f.message
    assert "11111111-2222-3333-4444-555555555555" in f.message


@pytest.mark.parametrize("scope", [INSIGHTS, f"{SUB}/resourceGroups/rg-ai", SUB])
def test_rb001_monitoring_reader_at_or_above_the_home_passes(tmp_path, registry, scope):
    assert rb001(tmp_path, registry, add=[scope]) == []


def test_rb001_monitoring_reader_on_another_resource_group_does_not_count(tmp_path, registry):
    assert len(rb001(tmp_path, registry, add=[f"{SUB}/resourceGroups/rg-other"])) == 1


# ---- DG004: sampling below 100%, per service or per LLM API ---------------------------------------------------------
def dg004(tmp_path, registry, diagnostics):
    doc = json.loads((ROOT / f"{F}/DG004.json").read_text())
    doc["estate"]["services"][0]["diagnostics"] = diagnostics
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    return [f for f in audit(str(path), registry, only=("DG004",)).findings if f.rule_id == "DG004"]


def _diag(pct, api=None):
    return {"name": "azuremonitor", "logger_id": "azuremonitor", "sampling_percentage": pct, "api": api, "origin": {}}


def test_dg004_service_sampling_below_100_names_the_figure(tmp_path, registry):
    (f,) = dg004(tmp_path, registry, [_diag(99.5)])
    assert f.resource == "service/contoso-apim" and "logs 99.5% of requests for every API" in f.message


@pytest.mark.parametrize("pct", [100.0, None])
def test_dg004_full_or_unset_sampling_passes(tmp_path, registry, pct):
    assert dg004(tmp_path, registry, [_diag(pct)]) == []


def test_dg004_api_sampling_counts_only_for_an_llm_api(tmp_path, registry):
    (f,) = dg004(tmp_path, registry, [_diag(10, api="chat"), _diag(10, api="not-an-llm-api")])
    assert f.resource == "service/contoso-apim/apis/chat" and "logs 10% of requests for API 'chat'" in f.message


# ---- DG003: the legacy AzureDiagnostics table, for APIM settings only ------------------------------------------------
def dg003(tmp_path, registry, **setting):
    doc = json.loads((ROOT / f"{F}/DG003.json").read_text())
    doc["estate"]["diagnostic_settings"][0].update(setting)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    return [f for f in audit(str(path), registry, only=("DG003",)).findings if f.rule_id == "DG003"]


def test_dg003_names_setting_and_service_and_passes_when_dedicated_or_not_to_a_workspace(tmp_path, registry):
    (f,) = dg003(tmp_path, registry, destination_type=None)
    assert "on APIM service 'contoso-apim' writes to AzureDiagnostics" in f.message
    assert dg003(tmp_path, registry, destination_type="dedicated") == []
    assert dg003(tmp_path, registry, destination_type=None, workspace_id=None) == []
    assert dg003(tmp_path, registry, destination_type=None, resource_id=ACCOUNT) == []
