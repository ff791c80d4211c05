"""A gate nobody can narrow: what could not be read fails it whatever `--only`, `--skip` or a config `skip` says,
and two estates in one scan never share a fingerprint (the estate's location in the repository is part of it),
so one estate's inline suppression or baseline never hides the other's findings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLE, ROOT

CHAT = "apis/chat-completions/policy.xml"
SUPPRESS = "<!-- aoai-audit: ignore TM001 dev only, accepted for the trial -->"


def scan(path, *args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(path), "--format", "json", *args],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, (json.loads(proc.stdout) if proc.stdout.startswith("{") else None)


@pytest.fixture
def broken(tmp_path):
    tree = tmp_path / "apim"
    shutil.copytree(EXAMPLE, tree)
    (tree / CHAT).write_text("<policies><inbound><base /><llm-emit-token-metric")  # an LLM API's policy, cut off
    return tree


@pytest.mark.parametrize("args", [("--only", "TM001,TM002,HD001"), ("--skip", "AU001,AU002"), ("--only", "RB004")])
def test_selection_cannot_hide_what_was_not_read(broken, args):
    proc, doc = scan(broken, *args, "--fail-on", "high")
    assert proc.returncode == 1
    assert any(f["rule_id"] == "AU002" and CHAT in (f["location"]["path"] or "") for f in doc["findings"])


def test_a_committed_config_cannot_skip_it(broken, tmp_path):
    config = tmp_path / "aoai-audit.yaml"
    config.write_text("skip: [AU001, AU002]\nonly: [TM001]\n")
    proc, doc = scan(broken, "--config", str(config))
    assert proc.returncode == 1 and any(f["rule_id"] == "AU002" for f in doc["findings"])
    assert "AU002 cannot be left out" in proc.stderr + json.dumps(doc.get("warnings", []))


def _two_estates(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # the repository root the fingerprints are relative to
    for env in ("prod", "dev"):
        shutil.copytree(EXAMPLE, repo / env / "apimartifacts")
    dev = repo / "dev" / "apimartifacts" / "apis" / "embeddings-search" / "policy.xml"
    dev.write_text(dev.read_text().replace("<policies>", "<policies>" + SUPPRESS, 1))
    return repo


def _tm001(doc, env):
    return [f for f in doc["findings"] if f["rule_id"] == "TM001" and f"/{env}/" in "/" + (f["location"]["path"] or "")
            and "embeddings-search/policy.xml" in (f["location"]["path"] or "")]


def test_two_extracts_of_one_service_keep_their_own_findings(tmp_path):
    repo = _two_estates(tmp_path)
    _proc, both = scan(".", cwd=repo)
    prints = [f["fingerprint"] for f in both["findings"]]
    assert len(prints) == len(set(prints))
    prod, dev = _tm001(both, "prod"), _tm001(both, "dev")
    assert prod and dev and prod[0]["fingerprint"] != dev[0]["fingerprint"]
    assert prod[0]["suppressed_by"] is None  # dev's inline suppression does not reach prod
    assert dev[0]["suppressed_by"] and "dev only" in dev[0]["suppressed_by"]


def test_baselines_still_work_on_the_same_estate(tmp_path):
    repo = _two_estates(tmp_path)
    _proc, alone = scan("prod/apimartifacts", cwd=repo)
    _proc, both = scan(".", cwd=repo)
    _proc, absolute = scan(repo / "prod" / "apimartifacts", cwd=tmp_path)
    ids = {f["fingerprint"] for f in alone["findings"]}
    assert ids == {f["fingerprint"] for f in absolute["findings"]}  # however the path is typed
    # prod's findings, found again beside dev's (but for the rules that compare the whole scan, TM005's `estate`)
    assert {f["fingerprint"] for f in alone["findings"] if f["resource"] != "estate"} <= {
        f["fingerprint"] for f in both["findings"]}
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(alone))
    _proc, again = scan(".", "--baseline", str(baseline), cwd=repo)
    fresh = [f for f in again["findings"] if not f["in_baseline"] and not f["suppressed_by"]]
    assert fresh and all("/dev/" in "/" + (f["location"]["path"] or f["resource"]) for f in fresh)
