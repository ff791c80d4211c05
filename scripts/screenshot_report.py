"""Render the bundled example's HTML report and save the screenshots the README shows (docs/img/).

example-report.png: the first screen at 1280 × 800 (gate verdict, money, dearest gaps); example-usage.png: the
usage section; example-phone.png: the first screen at 390 px wide.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import launch, why_unavailable  # noqa: E402


def main() -> None:
    reason = why_unavailable()
    if reason:
        sys.exit(f"cannot take the screenshot: {reason}")
    from playwright.sync_api import sync_playwright

    img = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", "fixtures/example/contoso-apim",
                        "--usage", "fixtures/example/usage.csv", "--usage", "fixtures/example/platform", "--cost-centres", "fixtures/example/cost-centres.yaml",
                        "--format", "html", "-o", str(report)], cwd=ROOT, check=False)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(report.as_uri())
            page.screenshot(path=str(img / "example-report.png"))
            # a viewport tall enough to hold the usage section, clipped to it (element screenshots that need a
            # scroll hang in headless Debian chromium)
            tall = browser.new_page(viewport={"width": 1280, "height": 3000})
            tall.goto(report.as_uri())
            box = tall.locator("section[aria-labelledby=usage]").bounding_box()
            tall.screenshot(path=str(img / "example-usage.png"), clip=box)
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.goto(report.as_uri())
            phone.screenshot(path=str(img / "example-phone.png"))
            browser.close()
    print(img)


if __name__ == "__main__":
    main()
