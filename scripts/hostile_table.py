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

from hostile_cases import cases  # noqa: E402

# the CLI in this process, then its own peak RSS (VmHWM: per process image, unlike ru_maxrss, which Linux
# carries over from the parent across fork and exec)
MEASURED = """
import re, runpy, sys
sys.argv = ["aoai-audit", *sys.argv[1:]]
try:
    runpy.run_module("aoai_audit.cli", run_name="__main__")
finally:
    hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())
    print("PEAK_RSS_KB=%s" % (hwm.group(1) if hwm else 0), file=sys.stderr)
"""


def main() -> None:
    print("| input | outcome | what the report said | exit | time | peak RSS | traceback |")
    print("|---|---|---|---:|---:|---:|---|")
    for case in cases():
        with tempfile.TemporaryDirectory() as tmp:
            target = case.build(Path(tmp))
            start = time.monotonic()
            proc = subprocess.run([sys.executable, "-c", MEASURED, "scan", str(target), "--format", "json"],
                                  capture_output=True, text=True, cwd=ROOT, timeout=300)
            took = time.monotonic() - start
            peak = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1]) if "PEAK_RSS_KB=" in proc.stderr else 0
            doc = json.loads(proc.stdout) if proc.stdout.startswith("{") else {"findings": []}
            au002 = [f for f in doc["findings"] if f["rule_id"] == "AU002"]
            hit = next((f for f in au002 if case.where and case.where in (f["location"]["path"] or "") + " " + f["message"]),
                       au002[0] if au002 else None)
            said = "read, no AU002" if hit is None else (
                f"{Path(hit['location']['path'] or '').name}{':' + str(hit['location']['line']) if hit['location']['line'] else ''}"
                f": {hit['message'][:90]}")
            rss = f"{peak / 1024:.0f} MB"
            print(f"| {case.name} | {'AU002' if hit else 'clean'} | {said.replace('|', '/')} | {proc.returncode} | "
                  f"{took:.1f}s | {rss} | {'YES' if 'Traceback' in proc.stderr else 'no'} |")


if __name__ == "__main__":
    main()
