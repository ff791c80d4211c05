"""Offline scale benchmark: `aoai-audit scan` vs a bare lxml parse of the same files (the floor).

Prints a table and writes benchmarks/results-offline.md. Each size runs in fresh subprocesses so peak
RSS is per run. Usage: python benchmarks/bench_offline.py [--sizes 1000 5000 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

FLOOR = r"""
import os, sys, time, resource
from lxml import etree
root = sys.argv[1]
parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
t = time.perf_counter(); n = 0
for d, _, files in os.walk(root):
    for f in files:
        if f.endswith(".xml"):
            with open(os.path.join(d, f), "rb") as fh:
                etree.fromstring(fh.read(), parser); n += 1
print(time.perf_counter() - t, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
SCAN = r"""
import json, os, resource, subprocess, sys, tempfile, time
out = os.path.join(tempfile.mkdtemp(), "r.json")
t = time.perf_counter()
subprocess.run(["aoai-audit", "scan", sys.argv[1], "--format", "json", "-o", out])
secs = time.perf_counter() - t
with open(out) as fh:
    findings = len(json.load(fh)["findings"])
print(secs, findings, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(code: str, root: str, repeat: int = 3) -> tuple[float, str, int]:
    best = None
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True).stdout
        secs, count, rss = out.split()
        if best is None or float(secs) < best[0]:
            best = (float(secs), count, int(rss))
    return best  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            root = os.path.join(tmp, f"n{n}")
            files = write_estate(root, n, services=1)
            svc = os.path.join(root, "svc-00")
            floor_s, _parsed, _floor_rss = measure(FLOOR, svc, args.repeat)
            scan_s, findings, scan_rss = measure(SCAN, svc, args.repeat)
            rows.append({"apis": n, "policy_files": files, "floor_s": round(floor_s, 3), "scan_s": round(scan_s, 3),
                         "ratio": round(scan_s / floor_s, 2), "findings": int(findings),
                         "peak_rss_mb": round(scan_rss / 1024, 1), "us_per_api": round(scan_s / n * 1e6)})
            print(json.dumps(rows[-1]))
    lines = [
        "# Offline benchmark", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}",
        "", "Floor = a bare lxml parse (recover mode) of the same policy files in one process; scan = load + resolve + "
        "all checks + JSON report: the real `aoai-audit scan` command, start-up included. Goal: scan ≤ 1.5× floor, linear in N, peak RSS ≤ 300 MB at 10,000 APIs.",
        "", "| APIs | policy files | floor (s) | scan (s) | ratio | µs/API | peak RSS (MB) | findings |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['apis']:,} | {r['policy_files']:,} | {r['floor_s']} | {r['scan_s']} | {r['ratio']}× | "
                     f"{r['us_per_api']} | {r['peak_rss_mb']} | {r['findings']:,} |")
    publish("offline", lines)


if __name__ == "__main__":
    main()
