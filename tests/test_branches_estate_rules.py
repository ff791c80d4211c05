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
