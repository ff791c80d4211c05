"""Each hostile input ends as a finding naming the file or a one-line error, within bounds; never a traceback."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from conftest import ROOT
from hostile_cases import cases

NAMES = [c.name for c in cases()]
TIME_LIMIT = 120  # seconds: a hang fails the test instead of the CI job
MEMORY_LIMIT = 1024 * 2**20  # bytes of address space beyond which the scan is killed


def scan(target):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT * 3, MEMORY_LIMIT * 3))

    return subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(target), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=TIME_LIMIT, preexec_fn=limit)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_input(tmp_path, name):
    (case,) = [c for c in cases() if c.name == name]
    proc = scan(case.build(tmp_path))
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (1, 2), proc.stderr  # the example has findings; a lone broken file saw nothing
    doc = json.loads(proc.stdout)
    au002 = [f for f in doc["findings"] if f["rule_id"] == "AU002"]
    if case.expect == "AU002":
        assert any(case.where in (f["location"]["path"] or "") + " " + f["message"] for f in au002), \
            [f["message"] for f in au002]
        assert all("\n" not in f["message"] for f in au002)
    else:
        assert not au002, [f["message"] for f in au002]
    if "apim" in str(doc["sources"][0]["location"]):
        assert any(f["rule_id"] == "TM001" for f in doc["findings"])  # the rest of the tree was audited
