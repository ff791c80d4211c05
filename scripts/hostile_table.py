"""Run every hostile input through `aoai-audit scan` and print outcome, time and peak memory (Markdown).

    python3 scripts/hostile_table.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile_cases import MEASURED, cases  # noqa: E402


def main() -> None:
    print("| input | outcome | what the report said | exit | time | peak RSS | traceback | leak |")
    print("|---|---|---|---:|---:|---:|---|---|")
    for case in cases():
        with tempfile.TemporaryDirectory() as tmp:
            target = case.build(Path(tmp))
            start = time.monotonic()
            proc = subprocess.run([sys.executable, "-c", MEASURED, "scan", str(target), "--format", "json"],
                                  capture_output=True, text=True, cwd=ROOT, timeout=300)
            took = time.monotonic() - start
            peak = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1]) if "PEAK_RSS_KB=" in proc.stderr else 0
            doc = json.loads(proc.stdout) if proc.stdout.startswith("{") else {"findings": []}
            au = [f for f in doc["findings"] if f["rule_id"] in ("AU001", "AU002")]
            hit = next((f for f in au if case.where and case.where in (f["location"]["path"] or "") + " " + f["message"]),
                       au[0] if au else None)
            said = "read, no AU001/AU002" if hit is None else (
                f"{Path(hit['location']['path'] or '').name}{':' + str(hit['location']['line']) if hit['location']['line'] else ''}"
                f": {hit['message'][:90]}")
            rss = f"{peak / 1024:.0f} MB"
            leak = "YES" if case.secret and case.secret in proc.stdout + proc.stderr else "no"
            print(f"| {case.name} | {hit['rule_id'] if hit else 'clean'} | {said.replace('|', '/')} | {proc.returncode} | "
                  f"{took:.1f}s | {rss} | {'YES' if 'Traceback' in proc.stderr else 'no'} | {leak} |")


if __name__ == "__main__":
    main()
