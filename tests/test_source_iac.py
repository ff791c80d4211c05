"""ARM templates and Terraform JSON as sources: structure, links, lines, secrets, gaps, and parity."""

from __future__ import annotations

import json
import sys

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.arm.evaluator import Evaluator
from aoai_audit.sources.detect import load_paths
from conftest import EXAMPLE, ROOT, audit

sys.path.insert(0, str(ROOT / "benchmarks"))
from estate_writers import to_arm, to_terraform

ARM = "tests/fixtures/arm"
TF = "tests/fixtures/terraform"
RG = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}"


def load(path):
    return load_paths([str(ROOT / path)])


# ---------------------------------------------------------------------------------------------- ARM


def test_arm_nested_template():
    estate = load(f"{ARM}/nested.json")
    (svc,) = estate.services
    assert svc.name == "contoso-apim" and svc.resource_id == f"{RG}/providers/Microsoft.ApiManagement/service/contoso-apim"
    (api,) = svc.apis
    assert api.service_url == "https://contoso-aoai.openai.azure.com/openai"  # variables + format() resolved
    assert api.subscription_required is True
    assert [o.url_template for o in api.operations] == ["/deployments/{id}/chat/completions"]
    # rawxml with raw quotes inside the expression reads, and points into the JSON file
    dims = [n for n in api.policy.document.sections["inbound"].iter() if n.tag == "dimension"]
    assert dims[0].get("value") == '@(context.Request.Headers.GetValueOrDefault("x-team-id",""))'
    assert api.policy.origin.path.endswith("nested.json") and api.policy.origin.line == 38
    (nv,) = svc.named_values
    assert nv.secret and nv.value is None
    (setting,) = estate.diagnostic_settings
    assert setting.resource_id == svc.resource_id and setting.workspace_id == "{workspaceId}"
    (account,) = estate.accounts
    assert account.endpoint == "https://contoso-aoai.openai.azure.com/" and account.public_network_access == "Enabled"
    assert [(d.name, d.model, d.sku) for d in account.deployments] == [("gpt-4o", "gpt-4o", "GlobalStandard")]
    (role,) = estate.role_assignments
    assert role.scope == RG and role.role_definition_id.endswith("43d0d8ad-25c7-4714-9337-8ba259a9fe05")
    assert role.principal_id == "11111111-2222-3333-4444-555555555555"
    assert {"ai-accounts", "diagnostic-settings", "role-assignments"} <= estate.carries
    assert "do-not-keep-this-value" not in repr(estate)


def test_arm_flat_names_links_and_nested_deployment():
    estate = load(f"{ARM}/flat.json")
    (svc,) = estate.services
    assert svc.name == "gw"
    assert [a.name for a in svc.apis] == ["completions"]
    assert [(p.name, p.apis) for p in svc.products] == [("team-a", ("completions",))]  # apiLinks by apiId
    assert [f.name for f in svc.fragments] == ["metrics"]  # from the inner-scoped nested deployment
    # the linked global policy is declared but unknown: a policy with no text, whose error AU002 reports
    assert estate.gaps == ()
    assert svc.global_policy.document is None and svc.global_policy.origin.line == 55
    assert "xml-link" in svc.global_policy.error.message and "not audited" in svc.global_policy.error.message


def test_arm_symbolic_resources():
    estate = load(f"{ARM}/symbolic.json")
    (svc,) = estate.services
    assert svc.name == "bicep-apim" and svc.location == "westeurope"
    (api,) = svc.apis
    assert api.subscription_required is False and api.policy.document is not None


def test_arm_wrong_types_are_gaps_not_crashes(registry):
    result = audit(f"{ARM}/malformed.json", registry)
    messages = [f.message for f in result.findings if f.rule_id == "AU002"]
    for expected in ("resource is str", "`properties` is str", "policy value is int", "tag is not closed",
                     "`resources` of a resource must be a list", "template is list", "without type or name"):
        assert any(expected in m for m in messages), expected
    assert result.exit_code() == 1


def test_arm_gate_on_unknown_global_policy(registry):
    """The global policy is a link: whether it emits the token metric is unknown, so TM001 says nothing (unknown
    is not none) and the AU002 on the link fails the gate."""
    result = audit(f"{ARM}/flat.json", registry)
    assert not [f for f in result.findings if f.rule_id in ("TM001", "HD001", "ST002")]
    (au002,) = [f for f in result.findings if f.rule_id == "AU002"]
    assert "xml-link" in au002.message and au002.location.path.endswith("flat.json") and au002.location.line == 55
    assert result.exit_code() == 1


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[concat(parameters('a'), '/x')]", "A/x"),
        ("[format('{0}-{1}', parameters('a'), variables('v'))]", "A-V"),
        ("[resourceId('Microsoft.Web/sites', parameters('a'))]", f"{RG}/providers/Microsoft.Web/sites/A"),
        ("[resourceGroup().id]", RG),
        ("[parameters('missing')]", "{missing}"),
        ("[toLower(if(equals(parameters('a'), 'A'), 'YES', 'NO'))]", "yes"),
        ("[unknownFunction('x')]", "{unknownFunction(x)}"),  # a placeholder, never a raw expression fragment
        ("[concat('unclosed'", "[concat('unclosed'"),
        ("[[literal]", "[literal]"),
    ],
)
def test_arm_expressions(expression, expected):
    ev = Evaluator({"a": {"defaultValue": "A"}, "missing": {"type": "string"}}, {"v": "V"})
    assert ev.string(expression) == expected


def test_arm_copy_loops_are_bounded_beyond_what_the_template_writes(tmp_path, monkeypatch):
    """Resources written out are bounded by the file's size and are all read (a 10,000-API template writes
    110,000); what copy loops add on top of them is capped, and the cap is a gap."""
    import aoai_audit.sources.arm.walk as walk

    monkeypatch.setattr(walk, "MAX_RESOURCES", 5)
    svc = {"type": "Microsoft.ApiManagement/service", "apiVersion": "2024-05-01", "name": "s", "properties": {}}
    apis = [{"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01", "name": f"s/api-{i}",
             "properties": {"path": f"p{i}"}} for i in range(8)]
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": [svc, *apis]}
    target = tmp_path / "t.json"
    target.write_text(json.dumps(template))
    estate = load_paths([str(target)])
    assert len(estate.services[0].apis) == 8 and not estate.gaps
    looped = {**apis[0], "name": "[concat('s/looped-', copyIndex())]", "copy": {"name": "l", "count": 7}}
    target.write_text(json.dumps({**template, "resources": [svc, looped]}))
    estate = load_paths([str(target)])
    assert len(estate.services[0].apis) < 7
    assert any("copy loops add more than 5 resources" in g.message for g in estate.gaps)


# ---------------------------------------------------------------------------------------------- Terraform


def test_terraform_plan_with_module_and_configuration_links():
    estate = load(f"{TF}/plan.json")
    (svc,) = estate.services
    assert svc.name == "tf-apim"
    assert sorted(a.name for a in svc.apis) == ["chat", "embeddings"]
    chat = next(a for a in svc.apis if a.name == "chat")
    assert chat.policy.origin.resource_id == "module.gateway.azurerm_api_management_api_policy.chat"
    assert chat.policy.origin.line and chat.policy.origin.path.endswith("plan.json")
    assert [(p.name, p.apis) for p in svc.products] == [("team-a", ("chat",))]
    assert [f.name for f in svc.fragments] == ["attribution"]  # linked through configuration references
    assert svc.named_values[0].secret and svc.named_values[0].value is None
    (account,) = estate.accounts
    assert account.disable_local_auth is False and account.public_network_access == "Enabled"
    assert [d.model for d in account.deployments] == ["gpt-4o"]  # linked by cognitive_account_id reference
    (setting,) = estate.diagnostic_settings
    assert setting.resource_id == account.resource_id
    assert setting.workspace_id.endswith("/Microsoft.OperationalInsights/workspaces/law")
    (role,) = estate.role_assignments
    assert role.scope == account.resource_id and role.role_definition_id == "Monitoring Reader"
    assert "tf-secret-value-should-never-appear" not in repr(estate)


def test_terraform_rules_fire_with_terraform_addresses(registry):
    result = audit(f"{TF}/plan.json", registry, reader_principal="11111111-2222-3333-4444-555555555555")
    got = {(f.rule_id, f.resource) for f in result.findings}
    assert ("TM001", "service/tf-apim/apis/embeddings") in got
    assert ("TM003", "service/tf-apim/apis/chat") in got
    assert ("BY001", account_id(result)) in got
    assert not any(f.rule_id == "DG001" for f in result.findings)  # the account's setting is linked
    assert not any(f.rule_id == "RB001" and "cognitive" in f.resource.lower() for f in result.findings)


def account_id(result):
    return result.estate.accounts[0].resource_id


def test_terraform_state_and_malformed(registry):
    state = load(f"{TF}/state.json")
    assert state.services[0].resource_id.startswith("/subscriptions/s1/")
    result = audit(f"{TF}/malformed.json", registry)
    messages = " | ".join(f.message for f in result.findings if f.rule_id == "AU002")
    for expected in ("not an object with a type", "values is str", "service it belongs to is unknown",
                     "xml_link", "child_modules is str"):
        assert expected in messages


@pytest.mark.parametrize("name", ["plan.json", "state.json", "malformed.json", "azapi-pool.json"])
def test_terraform_streamed_reads_as_the_whole_document(name, monkeypatch):
    """A plan is streamed (only planned_values/values and the configuration's references are built); the estate
    is the one the whole-document reader gives."""
    import aoai_audit.sources.terraform.stream as terraform

    path = str(ROOT / TF / name)
    doc = terraform.stream_show_json(path)
    assert doc is not None and set(doc) <= {"format_version", "planned_values", "values", "configuration"}
    assert "constant_value" not in json.dumps(doc.get("configuration"))
    streamed = load_paths([path])
    monkeypatch.setattr(terraform, "stream_show_json", lambda _path: None)
    assert load_paths([path]) == streamed


def test_terraform_plan_reads_only_planned_values(tmp_path):
    """resource_changes and prior_state repeat every resource: neither is read, so a broken copy there is no
    finding, and broken JSON anywhere is still one line naming the file and its line."""
    plan = json.loads((ROOT / TF / "plan.json").read_text())
    plan["resource_changes"] = [{"address": "x", "change": {"after": {"xml_content": "<policies><broken"}}}]
    plan["prior_state"] = {"values": {"root_module": {"resources": [{"type": 1}]}}}
    target = tmp_path / "plan.json"
    target.write_text(json.dumps(plan))
    estate, original = load_paths([str(target)]), load(f"{TF}/plan.json")
    assert estate.gaps == original.gaps == ()
    assert [(a.name, a.policy.text) for a in estate.services[0].apis] == [
        (a.name, a.policy.text) for a in original.services[0].apis]
    target.write_text(json.dumps(plan, indent=1)[:-40])
    (gap,) = load_paths([str(target)]).gaps
    assert gap.target == str(target) and gap.line and "invalid JSON" in gap.message


# ---------------------------------------------------------------------------------------------- parity


@pytest.mark.parametrize("writer", [to_arm, to_terraform], ids=["arm", "terraform"])
def test_example_gives_the_same_findings_through_every_source(tmp_path, registry, writer):
    """The bundled example, written as ARM and as Terraform JSON, audits to the same findings."""
    estate = load_paths([str(EXAMPLE)])
    target = tmp_path / "estate.json"
    target.write_text(json.dumps(writer(estate), indent=1))
    direct = run_audit(estate, registry, Settings())
    again = run_audit(load_paths([str(target)]), registry, Settings())
    # a template that declares the APIM service is about its diagnostic settings (an APIOps folder cannot carry
    # them): DG002 is judged there, and says that a setting in another template counts when scanned together
    about_diagnostics = {"DG002"}
    pick = lambda res: {(f.rule_id, f.resource) for f in res.findings if f.rule_id not in about_diagnostics}  # noqa: E731
    assert pick(again) == pick(direct)
    assert not any(f.rule_id == "DG002" for f in direct.findings)
    dg002 = [f for f in again.findings if f.rule_id == "DG002"]
    assert dg002 and all("scanned together" in f.message for f in dg002)
    assert len(direct.findings) > 15
