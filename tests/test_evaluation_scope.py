"""Whether a rule is evaluated depends on what the inputs are about, not on what a template happens to declare:
an account is about its own diagnostics (DG001), any estate is judged for "no LLM API" (AU003), and loose
policy or fragment files are a statement-level audit."""

from __future__ import annotations

import json
import shutil

import pytest

from aoai_audit.report.json_report import result_dict
from aoai_audit.report.text import render_text
from conftest import FIXTURES, audit

SCOPE = FIXTURES / "scope"
F = "tests/fixtures/rules"


def rules_of(result, *ids):
    return [f for f in result.findings if f.rule_id in ids]


def test_landing_zone_without_apim_is_judged_by_ownership_not_au003(registry):
    """Issue 23: an estate with an AI account and no APIM is not an empty view (no AU003); its untagged account
    has no owner (OW001, high), so the gate still fails, for the right reason."""
    result = audit(str(SCOPE / "landing-zone.json"), registry)
    assert not rules_of(result, "AU003")
    (ow001,) = rules_of(result, "OW001")
    assert "contoso-aoai-eastus" in ow001.message and "no owner is known" in ow001.message
    assert result.exit_code() == 1


def test_an_account_is_about_its_own_diagnostics(registry):
    (dg001,) = rules_of(audit(str(SCOPE / "landing-zone.json"), registry), "DG001")
    assert "has no diagnostic setting in what was scanned" in dg001.message
    assert "scanned together with this one" in dg001.message
    assert "DG001" not in {n.rule.id for n in audit(str(SCOPE / "landing-zone.json"), registry).not_evaluated}


def test_an_unrelated_setting_does_not_decide_dg001(registry, tmp_path):
    with_storage = audit(str(SCOPE / "unrelated-setting.json"), registry, only=("DG001",))
    doc = json.loads((SCOPE / "unrelated-setting.json").read_text())
    doc["resources"] = [r for r in doc["resources"] if r["type"] == "Microsoft.CognitiveServices/accounts"]
    (tmp_path / "unrelated-setting.json").write_text(json.dumps(doc))
    without = audit(str(tmp_path / "unrelated-setting.json"), registry, only=("DG001",))
    assert [f.resource for f in with_storage.findings] == [f.resource for f in without.findings]
    assert len(without.findings) == 1 and not without.not_evaluated


def test_a_setting_in_another_template_counts_when_scanned_together(registry):
    both = audit([str(SCOPE / "landing-zone.json"), str(SCOPE / "account-diagnostics.json")], registry, only=("DG001",))
    assert both.findings == () and not both.not_evaluated


def test_a_fragment_alone_is_a_statement_level_audit(registry, tmp_path, ):
    shutil.copy(FIXTURES / "st001_shapes/fires/fragment.xml", tmp_path / "usage-log.xml")
    result = audit(str(tmp_path), registry)
    assert not rules_of(result, "AU003")
    (reason,) = [n.reason for n in result.not_evaluated if n.rule.id == "AU003"]
    assert reason.startswith("statement-level audit")
    assert "scope: statement-level audit" in render_text(result, registry)
    assert result_dict(result, registry)["scope"] == "statements"
    assert rules_of(result, "ST001")  # and the statement itself was judged


def test_a_non_llm_estate_still_fails_au003(registry):
    result = audit(f"{F}/AU003/fires", registry)
    assert rules_of(result, "AU003") and result_dict(result, registry)["scope"] == "estate"


def test_a_loose_file_that_cannot_be_parsed_fails_the_gate(registry):
    result = audit(f"{F}/AU002/fires/broken.policy.xml", registry)
    assert not rules_of(result, "AU003")
    # nothing could be parsed, so nothing was audited: exit 2 (the AU002 says which file)
    assert [f.rule_id for f in result.findings] == ["AU002"] and result.exit_code() == 2 and result.nothing_parsed


def test_the_changed_files_hook_needs_no_au003_skip(tmp_path):
    """The pre-commit hook scans each changed file as it is: a clean fragment passes, a bad one fails on its
    statement, and neither on 'no LLM API found'."""
    import shlex

    import yaml
    from click.testing import CliRunner

    from aoai_audit import cli
    from conftest import ROOT

    (hook,) = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "aoai-audit-files"]
    args = shlex.split(hook["entry"])[1:]
    clean = tmp_path / "clean.xml"
    clean.write_text('<fragment><set-header name="x-team" exists-action="override"><value>a</value></set-header></fragment>')
    bad = tmp_path / "usage-log.xml"
    shutil.copy(FIXTURES / "st001_shapes/fires/fragment.xml", bad)
    ok = CliRunner().invoke(cli.main, [*args, str(clean)], catch_exceptions=False)
    assert ok.exit_code == 0 and "AU003 No LLM" not in ok.output
    failed = CliRunner().invoke(cli.main, [*args, str(bad)], catch_exceptions=False)
    assert failed.exit_code == 1 and "ST001" in failed.output and "AU003 No LLM" not in failed.output


def _template(*, declares_service: bool, setting_on: str | None) -> dict:
    """An ARM template with one LLM API; it declares the APIM service itself or only children of an existing one,
    and optionally one diagnostic setting attached to `setting_on` ('apim' or a storage account)."""
    resources: list[dict] = []
    if declares_service:
        resources.append({"type": "Microsoft.ApiManagement/service", "apiVersion": "2024-05-01", "name": "gw",
                          "location": "westeurope", "properties": {}})
    resources.append({"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01", "name": "gw/chat",
                      "properties": {"displayName": "Chat", "path": "chat",
                                     "serviceUrl": "https://eu.openai.azure.com/openai"}})
    if setting_on:
        scope = ("[resourceId('Microsoft.ApiManagement/service', 'gw')]" if setting_on == "apim"
                 else "[resourceId('Microsoft.Storage/storageAccounts', 'logsacct')]")
        resources.append({"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview",
                          "name": "to-law", "scope": scope, "properties": {
                              "workspaceId": "[resourceId('Microsoft.OperationalInsights/workspaces', 'law')]",
                              "logs": [{"category": "GatewayLogs", "enabled": True},
                                       {"category": "GatewayLlmLogs", "enabled": True}]}})
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": resources}


@pytest.mark.parametrize(("declares_service", "setting_on", "expected"), [
    (True, None, "fires"),            # about the service it creates: judged, though it declares no setting
    (False, "storage", "not evaluated"),  # an unrelated setting does not switch the rule on
    (False, None, "not evaluated"),   # children of a service declared elsewhere: nothing to judge here
    (False, "apim", "passes"),        # a setting on the gateway itself: judged, and it sends both categories
])
def test_dg002_is_evaluated_by_what_the_template_is_about(tmp_path, registry, declares_service, setting_on, expected):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(_template(declares_service=declares_service, setting_on=setting_on)))
    result = audit(str(path), registry)
    evaluated = not any(n.rule.id == "DG002" for n in result.not_evaluated)
    fired = [f for f in result.findings if f.rule_id == "DG002"]
    outcome = "not evaluated" if not evaluated else ("fires" if fired else "passes")
    assert outcome == expected, [f.message for f in fired]
    if fired:
        assert "scanned together" in fired[0].message
