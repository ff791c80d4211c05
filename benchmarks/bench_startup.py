"""Start-up benchmark: `aoai-audit --version` against `python -c pass`, and the pre-commit hook's command on
one changed policy file, each the best of N runs in the same session.

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

HEAVY = ("aoai_audit.engine", "aoai_audit.usage.prices", "urllib.request", "yaml", "rich", "azure", "lxml")
ONE_FILE = os.path.join(ROOT, "tests", "fixtures", "rules", "TM001", "fires", "chat.policy.xml")


def best(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


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
    python_pass = best([sys.executable, "-c", "pass"], args.runs)
    lines = ["# Start-up benchmark", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; best of "
             f"{args.runs} runs each; `python -c pass` = {python_pass * 1000:.0f} ms.", "",
             "| build | `--version` (ms) | over `python -c pass` | goal ≤ +50 ms | pre-commit hook on one file (ms) | "
             "goal < 300 ms | heavy modules `--version` imports |",
             "|---|---:|---:|---|---:|---|---|"]
    for label, exe in exes.items():
        version = best([exe, "--version"], args.runs)
        hook = best([exe, "scan", "--skip", "AU003", ONE_FILE], args.runs)
        over = (version - python_pass) * 1000
        heavy = ", ".join(imported(exe)) or "none"
        lines.append(f"| {label} | {version * 1000:.0f} | +{over:.0f} ms | {'met' if over <= 50 else 'not met'} | "
                     f"{hook * 1000:.0f} | {'met' if hook < 0.3 else 'not met'} | {heavy} |")
        print(lines[-1], flush=True)
    publish("startup", lines)


if __name__ == "__main__":
    main()
