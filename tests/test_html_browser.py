"""The HTML report in a real headless Chromium: renders, loads nothing, filters work, hostile text stays inert."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from aoai_audit.attribution.summary import money_of
from aoai_audit.report.html import render_html
from aoai_audit.usage.tally import cents
from browser import why_unavailable
from conftest import EXAMPLE, audit

pytestmark = pytest.mark.skipif(why_unavailable() is not None, reason=why_unavailable() or "")


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
    assert events["dialogs"] == [] and events["requests"] == [path.as_uri()]
    # nothing that could run later either (no timed wait for it): no image, no handler, no script holds the text
    assert page.locator("img").count() == 0
    handlers = page.evaluate("() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                             ".filter(a => a.name.startsWith('on')).map(a => a.value)")
    scripts = page.evaluate("() => [...document.scripts].map(s => s.textContent)")
    assert not [h for h in handlers if "alert" in h] and not [s for s in scripts if "alert(" in s]
    assert "<script>alert" in page.locator("body").inner_text()  # shown as text, not run


@pytest.fixture(scope="module")
def money_report(registry, tmp_path_factory):
    from test_usage import example_result

    result = example_result(registry)
    path = tmp_path_factory.mktemp("money") / "report.html"
    path.write_text(render_html(result, registry))
    return result, path


def _page(browser, path, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def test_first_screen_is_the_verdict_and_the_money_that_went_to_no_team(browser, money_report):
    result, path = money_report
    page = _page(browser, path, 1280, 800)
    # what went to no team: the attribution model's two not-attributable buckets (docs/attribution.md)
    money = f"USD {cents(money_of(result.ctx).no_team.money):,.2f}"
    for selector, text in (("[data-gate]", "FAILED"), ("[data-unattributed]", money)):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 800, (selector, box)
        assert text in page.locator(selector).inner_text()
    first = page.locator("[data-unattributed]").inner_text()
    assert "of the estimated platform cost" in first and "of platform tokens" in first  # each share says of what
    top = page.locator("ol.top li").all_inner_texts()
    assert len(top) == 3 and all(t.startswith("USD ") for t in top)
    page.close()


def test_no_horizontal_page_scroll_at_desktop_and_phone_width_and_money_stays_visible(browser, money_report):
    _result, path = money_report
    for width, height in ((1280, 800), (390, 844)):
        page = _page(browser, path, width, height)
        assert page.evaluate("document.scrollingElement.scrollWidth") == width
        # the wide coverage matrix scrolls inside its own box, with its header row sticky
        box = page.evaluate("(() => { const b = document.querySelector('table.matrix').closest('.scroll');"
                            " return [b.scrollWidth > b.clientWidth, getComputedStyle(b.querySelector('thead th'))"
                            ".position]; })()")
        assert box[1] == "sticky" and (box[0] or width == 1280)
        money = page.locator("#usage-table thead th", has_text="Money").bounding_box()
        assert money and money["x"] + money["width"] <= width  # the money column is on screen
        page.close()


def test_findings_are_ordered_by_money_then_severity(browser, money_report):
    _result, path = money_report
    page = _page(browser, path, 1280, 800)
    items = page.locator("[data-finding]").evaluate_all(
        "els => els.map(e => [e.dataset.money === '' ? -1 : parseFloat(e.dataset.money), e.dataset.severity])")
    assert len(items) > 10 and items[0][0] > 0
    rank = {"high": 3, "medium": 2, "low": 1}
    keys = [(-money, -rank[sev]) for money, sev in items]
    assert keys == sorted(keys)
    page.close()


def test_chart_has_axis_values_and_a_legend_and_print_is_a4_landscape(browser, money_report):
    _result, path = money_report
    page = _page(browser, path, 1280, 800)
    axis = page.locator("svg.chart text.axis").evaluate_all("els => els.map(e => e.textContent)")
    assert "0" in axis and any(t.endswith(" B") for t in axis) and "tokens per day" in axis
    legend = page.locator("figcaption.legend").inner_text()
    assert "attributed to a team" in legend and "unknown bucket" in legend and "not metered by the gateway" in legend
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    sizes = {tuple(round(float(x)) for x in m) for m in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
    assert sizes == {(842, 595)}  # A4 landscape, in points
    page.close()
