"""Render the bundled example's HTML report and save the images the README shows (docs/img/).

example-report.png: the first screen at 1280 × 800 (gate verdict, money, dearest gaps); example-phone.png: the
same at 390 px wide; example-usage.png: the usage section; example-teams.png: the per-team table;
example-finding.png: one finding with its policy excerpt; example-print-1..3.png: the first three pages of the
report printed by Chromium to an A4 PDF (rendered with poppler's pdftoppm). Prints the PDF's page count.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import launch, print_pdf, why_unavailable  # noqa: E402

PRINTED_PAGES = 3


def _clip(page, selector: str, out: Path, until: str | None = None) -> None:
    """Screenshot of one element (and down to the end of `until`), scrolled into view first: element screenshots
    that need a scroll hang in headless Debian chromium, a clip of the viewport does not."""
    page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'center'})")  # clear of the sticky filters
    box = page.locator(selector).first.bounding_box()
    if until:
        end = page.locator(until).first.bounding_box()
        box = {**box, "height": end["y"] + end["height"] - box["y"]}
    page.screenshot(path=str(out), clip=box)


def main() -> None:
    reason = why_unavailable() or (None if shutil.which("pdftoppm") else "no pdftoppm (apt-get install poppler-utils)")
    if reason:
        sys.exit(f"cannot take the screenshots: {reason}")
    from playwright.sync_api import sync_playwright

    img = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", "fixtures/example/contoso-apim",
                        "--usage", "fixtures/example/usage.csv", "--usage", "fixtures/example/platform",
                        "--cost-centres", "fixtures/example/cost-centres.yaml",
                        "--format", "html", "-o", str(report)], cwd=ROOT, check=False)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(report.as_uri())
            page.screenshot(path=str(img / "example-report.png"))
            tall = browser.new_page(viewport={"width": 1280, "height": 3000})
            tall.goto(report.as_uri())
            _clip(tall, "section[aria-labelledby=usage]", img / "example-usage.png")
            _clip(tall, "section[aria-labelledby=usage] h3", img / "example-teams.png", until="#usage-table")
            _clip(tall, "article[data-finding]:has(pre.excerpt)", img / "example-finding.png")
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.goto(report.as_uri())
            phone.screenshot(path=str(img / "example-phone.png"))
            pdf = Path(tmp) / "report.pdf"
            pdf.write_bytes(print_pdf(page))
            browser.close()
        for n in range(1, PRINTED_PAGES + 1):
            subprocess.run(["pdftoppm", "-f", str(n), "-l", str(n), "-singlefile", "-r", "80", "-png", str(pdf),
                            str(img / f"example-print-{n}")], check=True)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
        pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")
    print(f"{img} (the example prints to {pages} A4 pages)")


if __name__ == "__main__":
    main()
