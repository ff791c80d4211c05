"""Start-up benchmark: `aoai-audit --version` against `python -c pass`, and the pre-commit hook's command on
one changed policy file, each the best of N runs in the same session, in CPU time (user + system of the child,
which a busy machine disturbs far less than wall time) and in wall time.

    python benchmarks/bench_startup.py [--runs 20] [--compare /path/to/other/aoai-audit]

Also lists the heavy modules `--version` imports (it should import none: no engine, price table, urllib,
YAML, rich or Azure SDK). Writes benchmarks/results-startup.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from results import publish  # noqa: E402

HEAVY = ("click", "aoai_audit.cli", "aoai_audit.engine", "aoai_audit.usage.prices", "urllib.request", "yaml", "rich", "azure", "lxml")
ONE_FILE = os.path.join(ROOT, "tests", "fixtures", "rules", "TM001", "fires", "chat.policy.xml")


def best(cmd: list[str], runs: int) -> tuple[float, float]:
    """Least CPU seconds (user + system, from wait4) and least wall seconds over `runs` fresh processes."""
    cpus, walls = [], []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _pid, _status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t)
        proc.returncode = 0  # reaped here; Popen must not wait for it again
        cpus.append(usage.ru_utime + usage.ru_stime)
    return min(cpus), min(walls)


def imported(exe: str) -> list[str]:
    """Heavy modules loaded by `--version` (python -X importtime of the console script's interpreter)."""
    python = os.path.join(os.path.dirname(os.path.realpath(exe)), "python")
    python = python if os.path.exists(python) else sys.executable
    proc = subprocess.run([python, "-X", "importtime", "-m", "aoai_audit", "--version"], capture_output=True, text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    return sorted(h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--compare", help="another aoai-audit executable (e.g. the previous commit)")
    args = ap.parse_args()
    exes = {"this": shutil.which("aoai-audit") or "aoai-audit"}
    if args.compare:
        exes["before"] = args.compare
    pass_cpu, pass_wall = best([sys.executable, "-c", "pass"], args.runs)
    lines = ["# Start-up benchmark", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; best of "
             f"{args.runs} runs each, CPU time (user + system) and wall time; `python -c pass` = "
             f"{pass_cpu * 1000:.0f} ms CPU, {pass_wall * 1000:.0f} ms wall.", "",
             "| build | `--version` CPU (ms) | over `python -c pass` | goal ≤ +50 ms | `--version` wall (ms) | "
             "pre-commit hook on one file, CPU (ms) | wall (ms) | goal < 300 ms | heavy modules `--version` imports |",
             "|---|---:|---:|---|---:|---:|---:|---|---|"]
    for label, exe in exes.items():
        version_cpu, version_wall = best([exe, "--version"], args.runs)
        hook_cpu, hook_wall = best([exe, "scan", "--skip", "AU003", ONE_FILE], args.runs)
        over = (version_cpu - pass_cpu) * 1000
        heavy = ", ".join(imported(exe)) or "none"
        lines.append(f"| {label} | {version_cpu * 1000:.0f} | +{over:.0f} ms | {'met' if over <= 50 else 'not met'} | "
                     f"{version_wall * 1000:.0f} | {hook_cpu * 1000:.0f} | {hook_wall * 1000:.0f} | "
                     f"{'met' if hook_wall < 0.3 else 'not met'} | {heavy} |")
        print(lines[-1], flush=True)
    publish("startup", lines)


if __name__ == "__main__":
    main()
