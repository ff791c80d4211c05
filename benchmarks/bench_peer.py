"""Peer benchmark: the same synthetic estate as an ARM template and as a Terraform plan, audited by aoai-audit
and by Checkov (installed into its own virtual environment under benchmarks/.work on first run).

    python3 benchmarks/bench_peer.py [--apis 1000] [--repeat 3]

Both tools run as their real command lines, start-up included; the best of `--repeat` runs counts. The tools do
not check the same things (Checkov's Azure policies are generic misconfiguration rules); the figure compares
how fast each reads and judges the same input. Writes benchmarks/results-peer.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from estate_writers import as_plan, to_arm, to_terraform  # noqa: E402
from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

from aoai_audit.sources.detect import load_paths  # noqa: E402

VENV = os.path.join(HERE, ".work", "checkov-venv")
CHECKOV = os.path.join(VENV, "bin", "checkov")


def ensure_checkov() -> str:
    if not os.path.exists(CHECKOV):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "--quiet", "checkov"], check=True)
    return subprocess.run([CHECKOV, "--version"], capture_output=True, text=True).stdout.strip()


def best_of(cmd: list[str], repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    """Best CPU seconds (user + system of the process and its children): a busy machine disturbs CPU time far
    less than wall time, and both tools are measured the same way."""
    best, proc = None, None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        took = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = took if best is None else min(best, took)
    return best, proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apis", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    version = ensure_checkov()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_estate(os.path.join(tmp, "apiops"), args.apis, services=1)
        estate = load_paths([os.path.join(tmp, "apiops", "svc-00")])
        inputs = {"ARM template": ("arm.json", to_arm(estate), "arm"),
                  "Terraform plan": ("plan.json", as_plan(to_terraform(estate)), "terraform_plan")}
        for label, (name, doc, framework) in inputs.items():
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            ours, proc = best_of(["aoai-audit", "scan", path, "--format", "json", "-o", os.devnull], args.repeat)
            assert proc.returncode in (0, 1), proc.stderr[-500:]
            theirs, cproc = best_of([CHECKOV, "-f", path, "--framework", framework, "--quiet", "--compact", "-o", "json",
                                     "--skip-download"], args.repeat)
            summary = json.loads(cproc.stdout)
            summary = (summary[0] if isinstance(summary, list) else summary).get("summary") or {}
            assert summary.get("resource_count"), f"Checkov read no resource from {name}: {cproc.stdout[:300]}"
            size = os.path.getsize(path) / 2**20
            rows.append((label, size, ours, theirs, summary["resource_count"]))
            print(f"{label}: {size:.1f} MB, aoai-audit {ours:.2f} CPU s, checkov {theirs:.2f} CPU s, {theirs / ours:.1f}×", flush=True)
    lines = ["# Peer benchmark", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {version}; "
             f"estate: {args.apis:,} APIs (synthetic, about 6 policies each); best of {args.repeat}.", "",
             "| input | size | resources Checkov read | aoai-audit (CPU s) | Checkov (CPU s) | aoai-audit is faster by | goal |",
             "|---|---:|---:|---:|---:|---:|---|"]
    goals = {"ARM template": 10, "Terraform plan": 20}
    lines += [f"| {label} | {size:.1f} MB | {count:,} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}× | "
              f"≥ {goals[label]}×: {'met' if theirs / ours >= goals[label] else 'not met'} |"
              for label, size, ours, theirs, count in rows]
    publish("peer", lines)


if __name__ == "__main__":
    main()
