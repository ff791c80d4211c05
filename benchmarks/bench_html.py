"""HTML report at scale: generation time and size, then load and filter times in headless Chromium.

    python3 benchmarks/bench_html.py [--apis 10000]

Generation is the real `aoai-audit scan --format html` command (load, checks and rendering). In Chromium:
time to the `load` event, then the time from typing into the text filter, ticking a severity box and
choosing an area until the page has re-filtered. Writes benchmarks/results-html.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "tests")]

from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

from browser import launch, why_unavailable  # noqa: E402

PEAK = """
import re, runpy, sys
sys.argv = ["aoai-audit", *sys.argv[1:]]
try:
    runpy.run_module("aoai_audit.cli", run_name="__main__")
finally:
    print("PEAK_RSS_KB=" + re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1), file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apis", type=int, default=10000)
    args = ap.parse_args()
    reason = why_unavailable()
    if reason:
        sys.exit(f"cannot run the browser part: {reason}")
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_estate(tmp, args.apis, services=1)
        report = os.path.join(tmp, "report.html")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", PEAK, "scan", os.path.join(tmp, "svc-00"), "--format", "html",
                               "-o", report], capture_output=True, text=True)
        generate = time.perf_counter() - start
        peak = int(re.search(r"PEAK_RSS_KB=(\d+)", proc.stderr).group(1)) / 1024
        size = os.path.getsize(report) / 2**20
        rows.append(("generate (aoai-audit scan --format html)", f"{generate:.1f} s", f"peak RSS {peak:.0f} MB, "
                                                                                   f"{size:.1f} MB file"))
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            start = time.perf_counter()
            page.goto("file://" + report, wait_until="load")
            rows.append(("open in Chromium (load event)", f"{time.perf_counter() - start:.2f} s",
                         f"{page.locator('[data-finding]').count():,} findings in the page"))
            count = page.locator("#f-count")

            def timed(label: str, script: str) -> None:
                # the filter runs synchronously in the event handler; reading offsetHeight forces the re-layout
                ms = page.evaluate("() => { const t = performance.now(); " + script +
                                   "; void document.body.offsetHeight; return performance.now() - t; }")
                rows.append((label, f"{ms:.0f} ms", count.inner_text()))

            text = "const e = document.getElementById('f-text'); e.value = '{}'; e.dispatchEvent(new Event('input'))"
            timed("text filter ('x-team-id')", text.format("x-team-id"))
            timed("clear the text filter", text.format(""))
            timed("untick severity 'medium'", "const b = document.querySelector('input[data-sev=medium]'); "
                  "b.checked = false; b.dispatchEvent(new Event('change'))")
            timed("area filter", "const s = document.getElementById('f-area'); s.selectedIndex = 1; "
                  "s.dispatchEvent(new Event('input'))")
            rows.append(("script errors", str(len(errors)), "; ".join(errors)[:100]))
            browser.close()
    lines = ["# HTML report benchmark", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{args.apis:,} synthetic APIs; Debian chromium, headless.", "",
             "| step | time | detail |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    publish("html", lines)


if __name__ == "__main__":
    main()
