"""A copy loop whose count the deployment decides (issue 24, item 5) is judged once, symbolically.

Compiled samples driven by a parameters file loop over array parameters whose default is `[]`: with defaults
they create nothing, so what they declare was never judged. A count of 0 is allowed and deploys nothing
(https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources), so with the parameters file
unknown the honest statement is "every instance, if any", located at the looped resource. The fixtures have the
shape of Azure-Samples/AI-Gateway `labs/ai-foundry-model-gateway/main.json` (tests/fixtures/precision/SOURCES.md).
"""

from __future__ import annotations

import copy
import json

from conftest import ROOT, audit

HERE = "tests/fixtures/precision/copy_loops"
DECIDED = f"{HERE}/count_from_deployment.json"
KNOWN = f"{HERE}/count_from_template.json"


def _by_rule(result, rule_id):
    return [f for f in result.findings if f.rule_id == rule_id]


def _line_of(path: str, needle: str) -> int:
    lines = (ROOT / path).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def test_looped_account_with_keys_and_public_access_is_judged(registry):
    result = audit(DECIDED, registry)
    [by001] = _by_rule(result, "BY001")
    assert by001.message.startswith("Every Azure OpenAI account the copy loop 'cognitiveServices' creates (if any)")
    assert "disableLocalAuth false" in by001.message and "public network access Enabled" in by001.message
    # located at the looped account in the template, its varying name a readable placeholder
    account_line = _line_of(DECIDED, "\"name\": \"[format('{0}-{1}', parameters('aiServicesConfig')")
    assert (by001.location.path, by001.location.line) == (DECIDED, account_line)
    assert "{aiServicesConfig(copyIndex()).name}" in by001.resource


def test_looped_diagnostic_setting_without_logs_is_judged(registry):
    result = audit(DECIDED, registry)
    [dg001] = _by_rule(result, "DG001")
    assert dg001.message.startswith("Every Azure OpenAI account the copy loop 'cognitiveServices' creates")
    assert "sends no logs to Log Analytics" in dg001.message
    assert any(e.startswith("every diagnostic setting the copy loop 'diagnosticSettings' creates (if any): no logs")
               for e in dg001.evidence), dg001.evidence


def test_looped_setting_with_logs_passes(tmp_path, registry):
    template = json.loads((ROOT / DECIDED).read_text())
    inner = template["resources"][0]["properties"]["template"]["resources"]
    inner[1]["properties"]["logs"] = [{"categoryGroup": "allLogs", "enabled": True}]
    inner[0]["properties"].update(disableLocalAuth=True)
    path = tmp_path / "fixed.json"
    path.write_text(json.dumps(template))
    result = audit(str(path), registry)
    assert not _by_rule(result, "DG001") and not _by_rule(result, "BY001")


def test_known_count_keeps_its_expansion(registry):
    result = audit(KNOWN, registry)
    names = sorted(f.resource.rsplit("/", 1)[-1] for f in _by_rule(result, "BY001"))
    assert names == ["east-prod", "west-prod"]
    assert all("Azure OpenAI account '" in f.message and "copy loop" not in f.message for f in _by_rule(result, "BY001"))
    assert len(_by_rule(result, "DG001")) == 2


def test_count_the_template_makes_zero_creates_nothing(tmp_path, registry):
    """A count the template itself decides as 0 (an empty variable) deploys nothing: nothing is judged."""
    template = json.loads((ROOT / KNOWN).read_text())
    template["variables"]["aiServicesConfig"] = []
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(template))
    result = audit(str(path), registry)
    assert not _by_rule(result, "BY001") and not _by_rule(result, "DG001")


def test_top_level_parameter_default_empty_is_symbolic_and_non_empty_default_expands(tmp_path, registry):
    known = json.loads((ROOT / KNOWN).read_text())
    template = copy.deepcopy(known)
    config = template["variables"].pop("aiServicesConfig")
    template["parameters"]["aiServicesConfig"] = {"type": "array", "defaultValue": []}
    text = json.dumps(template).replace("variables('aiServicesConfig')", "parameters('aiServicesConfig')")
    path = tmp_path / "top.json"
    path.write_text(text)
    [by001] = _by_rule(audit(str(path), registry), "BY001")
    assert by001.message.startswith("Every Azure OpenAI account the copy loop 'cognitiveServices'")
    # the defaults name two accounts: they are judged as written, as before
    template["parameters"]["aiServicesConfig"]["defaultValue"] = config
    path.write_text(json.dumps(template).replace("variables('aiServicesConfig')", "parameters('aiServicesConfig')"))
    assert len(_by_rule(audit(str(path), registry), "BY001")) == 2
