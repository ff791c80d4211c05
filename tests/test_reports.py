"""HTML, Markdown and JUnit outputs: the right findings in the right places, figures that add up, inert hostile text."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from aoai_audit.report.html import build_model, render_html
from aoai_audit.report.json_report import result_dict
from aoai_audit.report.junit import render_junit
from aoai_audit.report.markdown import render_markdown
from conftest import EXAMPLE, audit

HOSTILE_NAME = '<script>alert("name")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'


def normalized(text: str) -> str:
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", "<time>", text)
    return re.sub(r"aoai-audit \d+\.\d+\.\d+\S*", "aoai-audit <version>", text)


@pytest.fixture(scope="module")
def example(registry):
    return audit("fixtures/example/contoso-apim", registry)  # relative: snapshots must not hold this checkout's path


def test_html_groups_findings_by_area_and_counts_add_up(example, registry):
    model = build_model(example, registry)
    doc = result_dict(example, registry)
    grouped = [f for a in model["areas"] for f in a["findings"]]
    assert len(grouped) == len(doc["findings"])
    for area in model["areas"]:
        assert {f["rule_id"][:2] if not f["rule_id"].startswith("SEC") else "SEC" for f in area["findings"]} == {area["key"]}
    counts = doc["summary"]["counts"]
    assert sum(counts.values()) == len([f for f in doc["findings"] if not f["suppressed_by"]])


def test_html_chain_marks_broken_intact_and_unknown_links(example, registry):
    chains = {row["api"]["api"]: {link.key: link.status for link in row["links"]} for row in build_model(example, registry)["chains"]}
    assert set(chains) == {"chat-completions", "embeddings-search", "assistants-legacy", "hr-copilot"}
    assert chains["assistants-legacy"]["identity"] == "broken"  # HD002
    assert chains["chat-completions"]["header"] == "broken"  # HD001 on an operation, HD003
    assert chains["hr-copilot"]["identity"] == "intact" and chains["hr-copilot"]["dimension"] == "intact"
    assert chains["hr-copilot"]["price"] == "unknown"  # no usage data: never shown as intact


def test_html_policy_excerpt_highlights_the_offending_line(example, registry):
    model = build_model(example, registry)
    tm003 = next(f for a in model["areas"] for f in a["findings"] if f["rule_id"] == "TM003")
    hit = [line for line in tm003["excerpt"] if line["hit"]]
    assert hit and hit[0]["n"] == tm003["location"]["line"] and "x-team-id" in hit[0]["text"]


def test_html_is_self_contained_with_strict_csp(example, registry):
    html = render_html(example, registry)
    csp = unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert csp.startswith("default-src 'none';") and "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=["\']?(https?:)?//', html)
    assert "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99" not in html  # the example's planted api-key


def test_html_keeps_hostile_names_and_policy_text_inert(tmp_path, registry):
    estate = tmp_path / "apim"
    shutil.copytree(EXAMPLE, estate)
    info = estate / "apis" / "chat-completions" / "apiInformation.json"
    doc = json.loads(info.read_text())
    doc["properties"]["displayName"] = HOSTILE_NAME
    info.write_text(json.dumps(doc))
    policy = estate / "apis" / "embeddings-search" / "policy.xml"
    policy.write_text(policy.read_text().replace("<inbound>", f'<inbound>\n<set-header name="x-evil" exists-action="override"><value>{HOSTILE_ATTR}</value></set-header>', 1))
    html = render_html(audit(estate, registry), registry)
    assert HOSTILE_NAME not in html and "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html
    (tmp_path / "hostile.html").write_text(html)


def test_markdown_is_short_with_top_findings_and_fixes(example, registry, snapshot):
    md = render_markdown(example, registry)
    assert md.startswith("## aoai-audit") and "Gate ❌ failed" in md
    assert "| effective token metric | 2/4 |" in md
    rows = [line for line in md.splitlines() if line.startswith("| high") or line.startswith("| medium")]
    assert rows and len(rows) <= 15
    assert normalized(md) == snapshot


def test_markdown_escapes_table_breakers(tmp_path, registry):
    estate = tmp_path / "apim"
    shutil.copytree(EXAMPLE, estate)
    info = estate / "apis" / "embeddings-search" / "apiInformation.json"
    doc = json.loads(info.read_text())
    doc["properties"]["displayName"] = "a | b\n<b>c</b>"
    info.write_text(json.dumps(doc))
    md = render_markdown(audit(estate, registry), registry)
    assert "a \\| b" in md and "<b>" not in md


def test_junit_failures_are_findings_at_or_above_the_gate(example, registry, snapshot):
    text = render_junit(example, registry)
    root = ET.fromstring(text.split("\n", 1)[1])
    failing_resources = {(f.rule_id, f.resource) for f in example.failing()}
    failed_cases = {(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None}
    assert failed_cases == failing_resources
    assert int(root.get("failures")) == len(failing_resources)
    skipped = {c.get("classname") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert {n.rule.id for n in example.not_evaluated} <= skipped
    assert normalized(text) == snapshot


def test_junit_skips_suppressed_findings(registry):
    from aoai_audit.config import SuppressionRule

    result = audit(EXAMPLE, registry, suppressions=(SuppressionRule("TM001", "*", "accepted for the pilot"),))
    root = ET.fromstring(render_junit(result, registry).split("\n", 1)[1])
    tm001 = [c for c in root.iter("testcase") if c.get("classname") == "TM001"]
    assert tm001 and all(c.find("skipped") is not None for c in tm001)


def test_html_snapshot(example, registry, snapshot):
    assert normalized(render_html(example, registry)) == snapshot


def test_cli_writes_several_formats_at_once(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "aoai_audit.cli", "scan", str(EXAMPLE), "--format", "html", "--format", "md",
         "--format", "junit", "--format", "sarif", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aoai-audit.html", "aoai-audit.md", "aoai-audit.sarif", "aoai-audit.xml"]


def test_diff_reports_fixed_new_and_changed(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    def run(*args):
        return subprocess.run([sys.executable, "-m", "aoai_audit.cli", *args], capture_output=True, text=True, cwd=ROOT)

    new = tmp_path / "new.json"
    run("scan", str(EXAMPLE), "--format", "json", "-o", str(new))
    doc = json.loads(new.read_text())
    old_doc = dict(doc, findings=[*doc["findings"][2:], dict(doc["findings"][0], fingerprint="gone", rule_id="TM004")])
    old_doc["findings"][0] = dict(old_doc["findings"][0], severity="low")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(old_doc))
    proc = run("diff", str(old), str(new), "--format", "json")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert {f["fingerprint"] for f in result["new"]} == {f["fingerprint"] for f in doc["findings"][:2]}
    assert [f["fingerprint"] for f in result["fixed"]] == ["gone"]
    assert [(c["old"]["severity"], c["new"]["severity"]) for c in result["changed"]] == [("low", doc["findings"][2]["severity"])]
    assert run("diff", str(new), str(new)).returncode == 0
    html = tmp_path / "r.html"
    assert run("scan", str(EXAMPLE), "--format", "html", "-o", str(html), "--previous", str(old)).returncode == 1
    assert "2 new · 1 fixed" in html.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    proc = run("diff", str(bad), str(new))
    assert proc.returncode == 2 and "bad.json:1: not valid JSON" in proc.stderr
