"""Render the bundled example's HTML report and save a screenshot for the docs (docs/img/example-report.png)."""

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

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", "fixtures/example/contoso-apim",
                        "--usage", "fixtures/example/usage.csv", "--usage", "fixtures/example/platform", "--cost-centres", "fixtures/example/cost-centres.yaml",
                        "--format", "html", "-o", str(report)], cwd=ROOT, check=False)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(report.as_uri())
            out = ROOT / "docs" / "img" / "example-report.png"
            page.screenshot(path=str(out), full_page=False)
            usage = ROOT / "docs" / "img" / "example-usage.png"
            page.locator("section[aria-labelledby=usage]").screenshot(path=str(usage))
            browser.close()
    print(out)


if __name__ == "__main__":
    main()
