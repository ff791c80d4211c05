"""The HTML report in a real headless Chromium: renders, loads nothing, filters work, hostile text stays inert."""

from __future__ import annotations

import json
import shutil

import pytest

from aoai_audit.report.html import render_html
from browser import launch, why_unavailable
from conftest import EXAMPLE, audit

pytestmark = pytest.mark.skipif(why_unavailable() is not None, reason=why_unavailable() or "")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def open_report(browser, path):
    page = browser.new_page()
    events = {"console": [], "requests": [], "dialogs": [], "errors": []}
    page.on("console", lambda m: events["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, events


def test_report_renders_offline_and_filters(browser, registry, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_html(audit(EXAMPLE, registry), registry))
    page, events = open_report(browser, path)
    assert events["requests"] == [path.as_uri()]  # the file itself, nothing else
    assert not [c for c in events["console"] if c[0] in ("error", "warning")] and not events["errors"]
    total = page.locator("[data-finding]").count()
    assert total > 10
    assert page.locator("#f-count").inner_text() == f"{total} of {total} findings shown"
    # severity filter: untick medium and low -> only high findings stay visible
    page.uncheck("input[data-sev=medium]")
    page.uncheck("input[data-sev=low]")
    visible = page.locator("[data-finding]:not(.hidden)")
    assert visible.count() == page.locator("[data-finding][data-severity=high]").count() < total
    assert all(v == "high" for v in visible.evaluate_all("els => els.map(e => e.dataset.severity)"))
    # text filter narrows further; area filter hides other areas
    page.check("input[data-sev=medium]")
    page.check("input[data-sev=low]")
    page.fill("#f-text", "x-team-id")
    assert 0 < page.locator("[data-finding]:not(.hidden)").count() < total
    page.fill("#f-text", "")
    page.select_option("#f-area", "ST")
    rules = page.locator("[data-finding]:not(.hidden)").evaluate_all("els => els.map(e => e.dataset.rule)")
    assert rules and all(r.startswith("ST") for r in rules)
    # sortable table: clicking a header reorders rows without errors
    page.click("#chain-table th.sortable >> nth=1")
    assert not events["errors"]


def test_hostile_content_stays_inert(browser, registry, tmp_path):
    estate = tmp_path / "apim"
    shutil.copytree(EXAMPLE, estate)
    info = estate / "apis" / "chat-completions" / "apiInformation.json"
    doc = json.loads(info.read_text())
    doc["properties"]["displayName"] = '<script>alert("name")</script><img src=x onerror=alert(2)>'
    info.write_text(json.dumps(doc))
    policy = estate / "apis" / "embeddings-search" / "policy.xml"
    policy.write_text(policy.read_text().replace(
        "<inbound>", '<inbound>\n<set-header name="x-evil" exists-action="override"><value>"&gt;&lt;img src=x '
        'onerror=alert(3)&gt;</value></set-header>', 1))
    path = tmp_path / "hostile.html"
    path.write_text(render_html(audit(estate, registry), registry))
    page, events = open_report(browser, path)
    page.wait_for_timeout(200)
    assert events["dialogs"] == [] and events["requests"] == [path.as_uri()]
    assert page.locator("img").count() == 0
    assert "<script>alert" in page.locator("body").inner_text()  # shown as text, not run
