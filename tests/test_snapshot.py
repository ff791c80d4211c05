"""Snapshots: what a collection read, saved and audited again offline with identical findings."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.snapshot import MARKER, write_snapshot
from aoai_audit.sources.detect import load_paths
from conftest import CORPUS, EXAMPLE, ROOT

SECRET = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99"  # the literal api-key planted in the example


def _view(result):
    return [
        (f.rule_id, f.severity.value, f.resource, f.message, f.location.path, f.location.line, f.fingerprint, f.evidence)
        for f in result.findings
    ]


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_snapshot_round_trip_gives_identical_findings(tmp_path, registry, suffix):
    estate = load_paths([str(EXAMPLE)])
    snap = tmp_path / f"estate{suffix}"
    write_snapshot(estate, str(snap))
    direct = run_audit(estate, registry, Settings())
    again = run_audit(load_paths([str(snap)]), registry, Settings())
    assert _view(again) == _view(direct)
    assert len(direct.findings) > 10
    assert {n.rule.id for n in again.not_evaluated} == {n.rule.id for n in direct.not_evaluated}
    raw = gzip.decompress(snap.read_bytes()) if suffix.endswith(".gz") else snap.read_bytes()
    assert json.loads(raw)[MARKER] == 1


def test_snapshot_never_holds_a_secret(tmp_path):
    assert SECRET in (EXAMPLE / "apis/embeddings-search/policy.xml").read_text()
    snap = tmp_path / "estate.json"
    write_snapshot(load_paths([str(EXAMPLE)]), str(snap))
    text = snap.read_text()
    assert SECRET not in text and "***redacted***" in text


def test_corpus_round_trip(tmp_path, registry):
    estate = load_paths([str(CORPUS)])
    snap = tmp_path / "corpus.json.gz"
    write_snapshot(estate, str(snap))
    assert _view(run_audit(load_paths([str(snap)]), registry, Settings())) == _view(
        run_audit(estate, registry, Settings())
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"aoai_audit_snapshot": 1, "estate": {"services": [{"name": 5}]}}', "services[0].name: expected str"),
        (b'{"aoai_audit_snapshot": 99, "estate": {}}', "schema 99"),
        (b'{"aoai_audit_snapshot": 1, "estate": {"services": [', "not valid JSON"),
        (b'{"aoai_audit_snapshot": 1, "estate": {"services": "all"}}', "expected a list"),
        (b"\x1f\x8b\x08\x00garbage", "not a readable gzip"),
    ],
)
def test_bad_snapshot_is_one_line_au002(tmp_path, registry, content, expected):
    snap = tmp_path / "bad.json.gz" if content.startswith(b"\x1f\x8b") else tmp_path / "bad.json"
    snap.write_bytes(content)
    result = run_audit(load_paths([str(snap)]), registry, Settings())
    (gap,) = result.estate.gaps
    assert expected in gap.message and str(snap) in gap.message and "\n" not in gap.message
    assert result.exit_code() == 2  # nothing audited: the gate does not pass


def test_collect_command_writes_a_snapshot(tmp_path):
    out = tmp_path / "snap.json.gz"
    proc = subprocess.run(
        [sys.executable, "-m", "aoai_audit.cli", "collect", str(EXAMPLE), "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 service(s), 6 API(s)" in proc.stderr
    scan = subprocess.run(
        [sys.executable, "-m", "aoai_audit.cli", "scan", str(out), "--format", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert scan.returncode == 1 and json.loads(scan.stdout)["findings"]
