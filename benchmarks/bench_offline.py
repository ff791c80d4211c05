"""Offline scale benchmark: `aoai-audit scan` on every file source (APIOps, ARM template, Terraform plan,
snapshot) at several sizes, each against its floor measured in the same run.

    python benchmarks/bench_offline.py [--sizes 1000 2000 5000 10000] [--varied-sizes 1000 10000]
                                       [--compare /path/to/other/aoai-audit] [--compare-sizes 1000 10000]

Floors: APIOps = a script that only parses the same policy files with lxml; JSON sources = a script that
`json.load`s the same file and parses every policy string in it with lxml. Both are linear by construction.
Each run is a fresh process; the figures are CPU seconds (user + system) of that process, which a busy
machine disturbs far less than wall time (wall is printed too), and its peak RSS.
The repetitive estate repeats policy texts (as the generator's templates do); the varied one (`--vary`) has
no two texts alike. `--compare` runs another install (e.g. the previous commit) on the same inputs and checks
that its JSON reports are identical (but for `generated_at`). Writes benchmarks/results-offline.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from estate_writers import as_plan, to_arm, to_terraform  # noqa: E402
from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

from aoai_audit.snapshot import write_snapshot  # noqa: E402
from aoai_audit.sources.detect import load_paths  # noqa: E402

# Runs a command and prints its CPU seconds, wall seconds and peak RSS (KiB), from a process of its own.
MEASURE = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=float(sys.argv[1])).returncode
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss, rc)
"""
FLOOR_XML = r"""
import os, sys
from lxml import etree
parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith(".xml"):
            with open(os.path.join(d, f), "rb") as fh:
                etree.fromstring(fh.read(), parser)
"""
FLOOR_JSON = r"""
import gzip, json, sys
from lxml import etree
parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
opener = gzip.open if sys.argv[1].endswith(".gz") else open
with opener(sys.argv[1], "rb") as fh:
    doc = json.load(fh)
stack = [doc]
while stack:
    v = stack.pop()
    if isinstance(v, dict):
        stack.extend(v.values())
    elif isinstance(v, list):
        stack.extend(v)
    elif isinstance(v, str) and v.lstrip().startswith(("<policies", "<fragment")):
        etree.fromstring(v.encode(), parser)
"""
SOURCES = ("APIOps", "ARM template", "Terraform plan", "snapshot")


def measure(cmd: list[str], timeout: float) -> dict:
    try:
        out = subprocess.run([sys.executable, "-c", MEASURE, str(timeout), *cmd], capture_output=True, text=True,
                             timeout=timeout + 30).stdout.split()
        cpu, wall, rss, rc = out
        return {"cpu": float(cpu), "wall": float(wall), "rss_mb": int(rss) / 1024, "rc": int(rc)}
    except (subprocess.TimeoutExpired, ValueError):
        return {"cpu": None, "wall": None, "rss_mb": None, "rc": None}


def write_inputs(root: str, n: int, vary: bool) -> dict[str, str]:
    """The same estate as an APIOps tree, an ARM template (indented), a Terraform plan and a snapshot."""
    write_estate(root, n, services=1, vary=vary)
    svc = os.path.join(root, "svc-00")
    estate = load_paths([svc])
    paths = {"APIOps": svc, "ARM template": os.path.join(root, "arm.json"),
             "Terraform plan": os.path.join(root, "plan.json"), "snapshot": os.path.join(root, "snapshot.json")}
    with open(paths["ARM template"], "w", encoding="utf-8") as fh:
        json.dump(to_arm(estate), fh, indent=1)
    with open(paths["Terraform plan"], "w", encoding="utf-8") as fh:
        json.dump(as_plan(to_terraform(estate)), fh)
    write_snapshot(estate, paths["snapshot"])
    return paths


def same_report(a: str, b: str) -> bool:
    with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
        da, db = json.load(fa), json.load(fb)
    da.pop("generated_at", None)
    db.pop("generated_at", None)
    return da == db


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    ap.add_argument("--varied-sizes", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--compare", help="another aoai-audit command to run on the same inputs (before/after), e.g. "
                    "\"python benchmarks/unoptimised.py\" or the console script of another install")
    ap.add_argument("--compare-sizes", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--compare-timeout", type=float, default=300)
    args = ap.parse_args()
    ours = shutil.which("aoai-audit") or "aoai-audit"
    rows = []
    runs = [(n, False) for n in args.sizes] + [(n, True) for n in args.varied_sizes]
    for n, vary in sorted(runs):
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_inputs(os.path.join(tmp, "estate"), n, vary)
            for source in args.sources if not vary else ["APIOps"]:
                path = paths[source]
                floor_code = FLOOR_XML if source == "APIOps" else FLOOR_JSON
                floor = measure([sys.executable, "-c", floor_code, path], args.timeout)
                report = os.path.join(tmp, "after.json")
                scan = measure([ours, "scan", path, "--format", "json", "-o", report], args.timeout)
                row = {"apis": n, "estate": "varied" if vary else "repetitive", "source": source, "floor": floor,
                       "scan": scan}
                if args.compare and n in args.compare_sizes:
                    before_report = os.path.join(tmp, "before.json")
                    before = measure([*shlex.split(args.compare), "scan", path, "--format", "json", "-o", before_report],
                                     args.compare_timeout)
                    row["before"] = before
                    row["identical"] = before["rc"] is not None and same_report(before_report, report)
                rows.append(row)
                print(json.dumps(row), flush=True)

    def cell(m: dict, key: str, fmt: str = "{:.2f}") -> str:
        return "timeout" if m.get(key) is None else fmt.format(m[key])

    def ratio(m: dict, floor: dict) -> str:
        return "—" if m.get("cpu") is None else f"{m['cpu'] / floor['cpu']:.2f}×"

    lines = [
        "# Offline benchmark", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}. CPU seconds (user + system) of each process; start-up included.",
        "", "| source | estate | APIs | floor CPU (s) | scan CPU (s) | scan / floor | µs/API (CPU) | scan wall (s) | "
        "peak RSS (MB) | before: CPU (s) | before / floor | before RSS (MB) | report identical |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(rows, key=lambda r: (SOURCES.index(r["source"]), r["estate"], r["apis"])):
        f, s, b = r["floor"], r["scan"], r.get("before")
        us = "—" if s["cpu"] is None else f"{s['cpu'] / r['apis'] * 1e6:,.0f}"
        before = (f"{cell(b, 'cpu')} | {ratio(b, f)} | {cell(b, 'rss_mb', '{:.0f}')} | "
                  f"{'yes' if r['identical'] else ('—' if b['rc'] is None else 'NO')}") if b else "| | |"
        lines.append(f"| {r['source']} | {r['estate']} | {r['apis']:,} | {cell(f, 'cpu')} | {cell(s, 'cpu')} | "
                     f"{ratio(s, f)} | {us} | {cell(s, 'wall')} | {cell(s, 'rss_mb', '{:.0f}')} | {before} |")
    publish("offline", lines)


if __name__ == "__main__":
    main()
