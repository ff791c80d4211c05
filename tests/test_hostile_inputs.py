"""Each hostile input ends as a finding naming the file or a one-line error, within bounds; never a traceback.

Each scan runs in its own process and reports its own peak RSS (VmHWM); the bound is far below what the
unbounded readers took (fragments that include each other: over 1 GB; a YAML alias bomb: 3 GB; a gzip bomb:
5.5 GB), and memory does not depend on the machine's load. Time is not asserted (scripts/hostile_table.py
measures it); a scan that does not end within TIME_LIMIT fails as a hang.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
from hostile_round3 import all_cases

from conftest import ROOT
from hostile_cases import MEASURED, built

pytestmark = pytest.mark.slow  # a scan in a process of its own per input

NAMES = [c.name for c in all_cases()]
TIME_LIMIT = 120  # seconds: a hang fails the test instead of the CI job
MEMORY_LIMIT = 1024 * 2**20  # bytes of address space beyond which the scan is killed
RSS_BOUND = 500 * 1024  # kB of peak resident memory one hostile scan may use


def scan(args, env=None):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT * 3, MEMORY_LIMIT * 3))

    return subprocess.run([sys.executable, "-c", MEASURED, "scan", *args, "--format", "json"], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=TIME_LIMIT, preexec_fn=limit)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_input(tmp_path, name):
    (case,) = [c for c in all_cases() if c.name == name]
    args, env = built(case, tmp_path)
    proc = scan(args, env)
    peak_kb = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert peak_kb < RSS_BOUND, peak_kb
    if case.expect == "usage":  # refused before auditing: exit 2, one line naming the file, nothing on stdout
        said = [line for line in proc.stderr.splitlines() if line and not line.startswith("PEAK_RSS_KB=")]
        assert proc.returncode == 2 and not proc.stdout and len(said) == 1, proc.stderr[-2000:]
        assert case.where in said[0], said
        assert not case.secret or case.secret not in proc.stderr
        return
    assert proc.returncode in (1, 2), proc.stderr  # the example has findings; a lone broken file saw nothing
    doc = json.loads(proc.stdout)
    au002 = [f for f in doc["findings"] if f["rule_id"] == "AU002"]
    if case.expect in ("AU001", "AU002"):
        named = [f for f in doc["findings"] if f["rule_id"] == case.expect]
        assert any(case.where in (f["location"]["path"] or "") + " " + f["message"] for f in named), \
            [f["message"] for f in named]
        assert all("\n" not in f["message"] for f in named)
    if case.expect != "AU002":
        assert not au002, [f["message"] for f in au002]
    if case.expect == "source":
        assert any(case.where in s["location"] for s in doc["sources"]), doc["sources"]
    if case.secret:
        assert case.secret not in proc.stdout + proc.stderr
    if doc["sources"] and "apim" in str(doc["sources"][0]["location"]):
        assert any(f["rule_id"] == "TM001" for f in doc["findings"])  # the rest of the tree was audited
