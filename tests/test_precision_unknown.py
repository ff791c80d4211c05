"""An API whose policy is unknown is AU002 alone (issue 24, item 2): a policy given as a deploy-time parameter
(ARM) or known only after apply (Terraform) is not "no policy", so the rules that judge policy statements say
nothing about the API, and the AU002 fails the gate. ARM parameters without a default are supplied at deployment
(https://learn.microsoft.com/azure/azure-resource-manager/templates/parameters); the API resource's policy
`value` (https://learn.microsoft.com/azure/templates/microsoft.apimanagement/service/apis/policies).
"""

from __future__ import annotations

import json

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths

POLICY_RULES = {"TM001", "TM002", "HD001", "HD002", "HD003", "ST001", "ST002", "TM007", "TM009", "TM010"}


def _template(policy_value: str) -> dict:
    svc = "[parameters('apimName')]"
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"apimName": {"type": "string", "defaultValue": "gw"}, "apiPolicyXml": {"type": "string"}},
        "resources": [
            {"type": "Microsoft.ApiManagement/service", "apiVersion": "2024-05-01", "name": svc,
             "location": "westeurope", "sku": {"name": "Developer", "capacity": 1},
             "properties": {"publisherEmail": "a@b.c", "publisherName": "x"}},
            {"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01",
             "name": "[format('{0}/chat', parameters('apimName'))]",
             "properties": {"displayName": "Chat", "path": "chat", "serviceUrl": "https://contoso.openai.azure.com/openai",
                            "subscriptionRequired": False, "protocols": ["https"]}},
            {"type": "Microsoft.ApiManagement/service/apis/policies", "apiVersion": "2024-05-01",
             "name": "[format('{0}/chat/policy', parameters('apimName'))]",
             "properties": {"format": "rawxml", "value": policy_value}},
        ],
    }


def test_deploy_time_policy_is_au002_alone(tmp_path, registry):
    path = tmp_path / "main.json"
    path.write_text(json.dumps(_template("[parameters('apiPolicyXml')]"), indent=2))
    result = run_audit(load_paths([str(path)]), registry, Settings())
    (view,) = result.ctx.apis
    assert view.verdict.is_llm and not view.policy_known
    (au002,) = [f for f in result.findings if f.rule_id == "AU002"]
    assert "apiPolicyXml" in au002.message and "only the deployment knows" in au002.message
    assert au002.resource == "service/gw/apis/chat" and au002.location.line
    assert not {f.rule_id for f in result.findings} & POLICY_RULES, [f.message for f in result.findings]
    assert result.exit_code() == 1  # the unknown fails the gate


def test_the_same_api_with_its_policy_known_is_judged(tmp_path, registry):
    path = tmp_path / "main.json"
    policy = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound></policies>"
    path.write_text(json.dumps(_template(policy), indent=2))
    result = run_audit(load_paths([str(path)]), registry, Settings())
    fired = {f.rule_id for f in result.findings}
    assert {"TM001", "HD002"} <= fired and "AU002" not in fired


def test_an_unknown_policy_reads_as_no_policy_for_classification(tmp_path, registry):
    """An API with no service URL whose only policy is a link: the service's backends still classify it (a link
    says nothing about what the API is), and its policy rules stay silent."""
    template = _template("https://example.com/policy.xml")
    template["resources"][1]["properties"].pop("serviceUrl")
    template["resources"][2]["properties"]["format"] = "rawxml-link"
    template["resources"].append(
        {"type": "Microsoft.ApiManagement/service/backends", "apiVersion": "2024-05-01",
         "name": "[format('{0}/aoai', parameters('apimName'))]",
         "properties": {"url": "https://contoso.openai.azure.com/openai", "protocol": "http"}})
    path = tmp_path / "main.json"
    path.write_text(json.dumps(template, indent=2))
    result = run_audit(load_paths([str(path)]), registry, Settings())
    (view,) = result.ctx.apis
    assert view.verdict.is_llm and "every backend of the service is an LLM endpoint" in view.verdict.reasons[0]
    assert [f.rule_id for f in result.findings if f.resource.endswith("/apis/chat")] == ["AU002"]
