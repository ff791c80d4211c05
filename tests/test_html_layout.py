"""The example's HTML report laid out by a real Chromium at desktop and phone width: the evidence is readable.

Measured with bounding boxes and per-word line boxes (Range.getClientRects), not DOM presence: an excerpt whose
code is pushed out of its box, or a column that sets "TM001" as "TM00 / 1", passes every DOM assertion.
"""

from __future__ import annotations

import pytest

from aoai_audit.report.html import render_html
from browser import BROKEN_WORDS_JS, EXCERPT_HIDDEN_JS, why_unavailable

pytestmark = pytest.mark.skipif(why_unavailable() is not None, reason=why_unavailable() or "")

WIDTHS = ((1280, 800), (390, 844))


@pytest.fixture(scope="module")
def report(registry, tmp_path_factory):
    from test_usage import example_result

    path = tmp_path_factory.mktemp("layout") / "report.html"
    path.write_text(render_html(example_result(registry), registry))
    return path


def _page(browser, path, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_every_excerpt_shows_its_highlighted_code_on_screen(browser, report, width, height):
    page = _page(browser, report, width, height)
    excerpts = page.locator("pre.excerpt").count()
    assert excerpts >= 5  # the example's findings that point at a policy line
    assert page.evaluate(EXCERPT_HIDDEN_JS) == []
    # every line of an excerpt carries its number and its code, in that order, and the code is the policy's text
    lines = page.locator("pre.excerpt .line").evaluate_all(
        "els => els.map(e => [e.querySelector('.ln').textContent, e.querySelector('.src').textContent])")
    assert lines and all(n.isdigit() for n, _code in lines)
    assert any("x-team-id" in code for _n, code in lines)
    page.close()


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_no_table_cell_or_figure_breaks_inside_a_word(browser, report, width, height):
    page = _page(browser, report, width, height)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # the hidden tables too
    cells = page.locator("td, th").count()
    assert cells > 200
    assert page.evaluate(BROKEN_WORDS_JS, "td, th, .card .big") == []
    page.close()


def test_the_word_check_sees_a_word_the_browser_broke(browser, report):
    """The check above is only as good as its detector: squeeze a cell until Chromium must break a word."""
    page = _page(browser, report, 1280, 800)
    page.evaluate("(() => { const td = document.querySelector('table.matrix td'); td.textContent = 'Severity';"
                  " td.style.cssText = 'display:block;width:3ch;white-space:normal;overflow-wrap:anywhere'; })()")
    assert page.evaluate(BROKEN_WORDS_JS, "table.matrix td") == ["Severity in <td> Severity"]
    page.evaluate("document.querySelector('table.matrix td').style.cssText = ''")  # and sees it whole again
    assert page.evaluate(BROKEN_WORDS_JS, "table.matrix td") == []
    page.close()


def test_chart_axis_labels_are_legible_at_phone_width(browser, report):
    for width, height in WIDTHS:
        page = _page(browser, report, width, height)
        sizes = page.locator("svg.chart text.axis").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)")
        assert sizes and min(sizes) >= 10, (width, min(sizes))  # CSS px: about a 9 pt label, not 5 px
        assert page.evaluate("document.scrollingElement.scrollWidth") == width  # the chart scrolls in its box
        page.close()
