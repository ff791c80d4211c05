"""Run every hostile input through `aoai-audit scan` and print outcome, time and peak memory (Markdown).

    python3 scripts/hostile_table.py [WORD ...]   (only the cases whose name holds one of the words)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile_round3 import all_cases  # noqa: E402

from hostile_cases import MEASURED, built  # noqa: E402

LIMIT = int(os.environ.get("HOSTILE_TIMEOUT", "300"))  # seconds before a case counts as a hang


def main() -> None:
    print("| input | outcome | what the report said | exit | time | peak RSS | traceback | leak |")
    print("|---|---|---|---:|---:|---:|---|---|")
    words = sys.argv[1:]
    for case in all_cases():
        if words and not any(w in case.name for w in words):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            args, env = built(case, Path(tmp))
            start = time.monotonic()
            try:
                proc = subprocess.run([sys.executable, "-c", MEASURED, "scan", *args, "--format", "json"], env=env,
                                      capture_output=True, text=True, cwd=ROOT, timeout=LIMIT)
            except subprocess.TimeoutExpired:
                print(f"| {case.name} | hang | killed after {LIMIT} s | - | >{LIMIT}s | - | - | - |", flush=True)
                continue
            took = time.monotonic() - start
            peak = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1]) if "PEAK_RSS_KB=" in proc.stderr else 0
            doc = json.loads(proc.stdout) if proc.stdout.startswith("{") else {"findings": []}
            au = [f for f in doc["findings"] if f["rule_id"] in ("AU001", "AU002")]
            hit = next((f for f in au if case.where and case.where in (f["location"]["path"] or "") + " " + f["message"]),
                       au[0] if au else None)
            read = [s["location"] for s in doc.get("sources", []) if case.where and case.where in s["location"]]
            said = ("read as " + ", ".join(read) if read else "read, no AU001/AU002") if hit is None else (
                f"{Path(hit['location']['path'] or '').name}{':' + str(hit['location']['line']) if hit['location']['line'] else ''}"
                f": {hit['message'][:90]}")
            errors = [line for line in proc.stderr.splitlines() if line and not line.startswith("PEAK_RSS_KB=")]
            if not proc.stdout and errors:  # refused before auditing (a usage error)
                said = errors[-1][:120]
            rss = f"{peak / 1024:.0f} MB"
            leak = "YES" if case.secret and case.secret in proc.stdout + proc.stderr else "no"
            outcome = hit["rule_id"] if hit else ("usage error" if not proc.stdout and errors else "clean")
            print(f"| {case.name} | {outcome} | {said.replace('|', '/')} | {proc.returncode} | "
                  f"{took:.1f}s | {rss} | {'YES' if 'Traceback' in proc.stderr else 'no'} | {leak} |", flush=True)


if __name__ == "__main__":
    main()
