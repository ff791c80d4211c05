"""Logging rules judged on the part of their data a source carries, and saying only what is there (issue 24,
items 2, 3 and 7).

- DG002 on an APIOps extract: the extract carries the `azuremonitor` diagnostic, so LLM logging disabled there
  is a finding, and the report says the diagnostic settings were not judged. The property is the diagnostic's
  `largeLanguageModel.logs` (https://learn.microsoft.com/rest/api/apimanagement/diagnostic/create-or-update,
  api-version 2024-06-01-preview; https://learn.microsoft.com/azure/api-management/api-management-howto-llm-logs).
- A service whose resource id is unknown is not a DG002 gap: its settings are unknown, not missing.
- TM008 never says a diagnostic "uses logger ''" when it has no loggerId.
"""

from __future__ import annotations

import json
import shutil

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import Api, ApimService, DiagnosticSetting, Estate, LogSetting, SourceInfo
from aoai_audit.report.json_report import render_json
from aoai_audit.report.markdown import render_markdown
from conftest import ROOT, audit

TREE = ROOT / "tests" / "fixtures" / "rules" / "TM008" / "passes" / "apim"


def _extract(tmp_path, llm_logs: str | None, logger_id: str | None = "/loggers/appinsights"):
    root = tmp_path / "apim"
    shutil.copytree(TREE, root)
    if llm_logs is not None:
        diag = root / "diagnostics" / "azuremonitor"
        diag.mkdir(parents=True)
        props = {"loggerId": "/loggers/azuremonitor", "largeLanguageModel": {"logs": llm_logs}}
        (diag / "diagnosticInformation.json").write_text(json.dumps({"properties": props}))
    if logger_id is None:
        info = root / "diagnostics" / "applicationinsights" / "diagnosticInformation.json"
        doc = json.loads(info.read_text())
        doc["properties"].pop("loggerId")
        info.write_text(json.dumps(doc))
    return root


def test_dg002_judges_llm_logging_on_an_apiops_extract(tmp_path, registry):
    result = audit(str(_extract(tmp_path, "disabled")), registry)
    (finding,) = [f for f in result.findings if f.rule_id == "DG002"]
    assert finding.message.endswith("the azuremonitor diagnostic has LLM logging disabled, and LLM API(s) chat do "
                                    "not enable it for themselves")
    assert finding.location.path.endswith("diagnostics/azuremonitor/diagnosticInformation.json")
    # what was not judged is said in the report, in every format that lists rules not evaluated
    (partly,) = result.partly_evaluated
    assert partly.rule.id == "DG002" and "diagnostic settings" in partly.reason
    doc = json.loads(render_json(result, registry))
    assert doc["partly_evaluated"] == [{"rule_id": "DG002", "reason": partly.reason}]
    assert "Partly evaluated: DG002" in render_markdown(result, registry)


def test_dg002_passes_when_the_extract_enables_llm_logging(tmp_path, registry):
    result = audit(str(_extract(tmp_path, "enabled")), registry)
    assert not [f for f in result.findings if f.rule_id == "DG002"]
    assert "DG002" not in {n.rule.id for n in result.not_evaluated}


def test_unknown_service_identity_is_not_a_dg002_gap(registry):
    chat = Api("chat", "chat", "chat", "https://contoso.openai.azure.com/openai", subscription_required=True)
    setting = DiagnosticSetting("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x",
                                "s", "/subscriptions/s/w", logs=(LogSetting("allLogs", None, True),))
    estate = Estate(sources=(SourceInfo("snapshot", "x", frozenset({"apis", "policies", "diagnostic-settings"})),),
                    services=(ApimService("gw", "", apis=(chat,)),), diagnostic_settings=(setting,))
    result = run_audit(estate, registry, Settings(only=("DG002",)))
    assert result.findings == ()


def test_tm008_does_not_name_a_logger_that_is_not_there(tmp_path, registry):
    result = audit(str(_extract(tmp_path, None, logger_id=None)), registry, only=("TM008",))
    (finding,) = result.findings
    assert "logger ''" not in finding.message
    assert "diagnostic 'applicationinsights' names no logger (no loggerId)" in finding.message
