"""The example's report printed by Chromium to an A4 PDF and read back with pdftotext: what a CFO holds.

Page 1 carries the verdict, the money that went to no team and how the platform total adds up; findings print as
one compact block each; the coverage matrix is an appendix; no heading ends a page; the whole stays short.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from aoai_audit.attribution.summary import money_of
from aoai_audit.report.html import render_html
from aoai_audit.report.json_report import result_dict
from browser import PDFTOTEXT, print_pdf, why_no_pdf_text

pytestmark = pytest.mark.skipif(why_no_pdf_text() is not None, reason=why_no_pdf_text() or "")

# The example printed to 38 A4 pages before the print layout (issue 26); 14 after (main of 2026-12-06). The bound leaves room for a
# few more lines per finding, not for the evidence, the rationale or the matrix to come back into the flow.
MAX_PAGES = 16
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def example(registry, tmp_path_factory):
    from test_usage import example_result

    result = example_result(registry)
    path = tmp_path_factory.mktemp("print") / "report.html"
    path.write_text(render_html(result, registry))
    return result, path


def _print(browser, path, tmp_path, script: str = ""):
    page = browser.new_page()
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    changed = page.evaluate(script) if script else None  # CSSOM edits: the report's CSP admits no new <style>
    headings = page.locator("main h2:not(.sr-only), main h3").all_inner_texts()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(print_pdf(page))
    page.close()
    return pdf, [_words(h) for h in headings], changed


def _words(text: str) -> str:
    return " ".join(text.split())


def _pages(pdf) -> list[list[tuple[str, float, float]]]:
    """Each page's text lines as pdftotext lays them out: (text, top, bottom) in points."""
    out = subprocess.run([PDFTOTEXT, "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    doc = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out.stdout))
    pages = []
    for page in doc.iter(f"{XHTML}page"):
        lines = [(" ".join(w.text or "" for w in line.iter(f"{XHTML}word")), float(line.get("yMin")),
                  float(line.get("yMax"))) for line in page.iter(f"{XHTML}line")]
        pages.append(lines)
    return pages


def _page_text(pages, i: int) -> str:
    return _words(" ".join(text for text, _top, _bottom in pages[i]))


def _orphans(pages, headings: list[str]) -> list[str]:
    """Headings with nothing below them on their page: the reader turns the page to find what they head."""
    out = []
    for n, lines in enumerate(pages, 1):
        for text, _top, bottom in lines:
            if text in headings and not any(top > bottom for _t, top, _b in lines):
                out.append(f"page {n}: {text}")
    return out


def test_page_one_is_the_verdict_the_money_and_the_reconciliation(browser, example, registry, tmp_path):
    result, path = example
    pdf, _headings, _ = _print(browser, path, tmp_path)
    pages = _pages(pdf)
    first = _page_text(pages, 0)
    assert "FAILED" in first and "CI GATE" in first.upper()
    cur = result.ctx.usage.currency
    assert f"{cur} {money_of(result.ctx).no_team.money:,.2f}" in first  # the headline: what went to no team
    # the reconciliation: every path's line and the total they add up to, all on page 1
    table = result_dict(result, registry)["attribution"]["money"]
    assert table["buckets"]
    for bucket in table["buckets"]:
        assert _words(bucket["bucket"]) in first and f"{cur} {bucket['money']:,.2f}" in first, bucket
    assert f"{table['total']['tokens']:,}" in first and f"{cur} {table['total']['money']:,.2f}" in first
    # and nothing of the findings list yet: the next section starts on page 2
    assert "Findings, dearest first" not in first and "What was audited" in _page_text(pages, 1)


def test_the_print_is_short_compact_and_ends_with_the_matrix_appendix(browser, example, registry, tmp_path):
    result, path = example
    pdf, headings, _ = _print(browser, path, tmp_path)
    pages = _pages(pdf)
    assert len(pages) <= MAX_PAGES, len(pages)
    text = [_page_text(pages, i) for i in range(len(pages))]
    whole = " ".join(text)
    # every finding is there, one block each: its rule and title; what stays on screen does not print
    for f in result.findings:
        assert f"{f.rule_id} {_words(registry.rule(f.rule_id).title)}" in whole, f.rule_id  # type: ignore[union-attr]
    shown = {f.rule_id for f in result.findings}
    for check in registry.checks:
        if check.rule.id in shown:
            assert _words(check.rule.rationale)[:60] not in whole, check.rule.id  # "Why it matters" folded
    assert "Evidence (" not in whole
    # the matrix is the appendix: it starts a page of its own after the last finding
    appendix = next(i for i, t in enumerate(text) if t.startswith("Appendix: coverage matrix"))
    last_finding = max(i for i, t in enumerate(text) for f in result.findings if f.rule_id in t.split())
    assert appendix == len(pages) - 1 or appendix > last_finding
    assert appendix > next(i for i, t in enumerate(text) if "Findings, dearest first" in t)
    assert _orphans(pages, headings) == []


def test_the_orphan_check_sees_a_heading_left_at_the_foot_of_a_page(browser, example, tmp_path):
    """The check above is only as good as its detector: push the per-team table away from its heading."""
    _result, path = example
    pdf, headings, heading = _print(browser, path, tmp_path, script="(() => {"
                                    " const table = document.querySelector('#usage-table').closest('.scroll');"
                                    " const h = table.previousElementSibling; table.style.breakBefore = 'page';"
                                    " h.style.breakAfter = 'auto'; return h.textContent.split(/\\s+/).join(' '); })()")
    where = _pages_with(pdf, heading)
    assert len(where) == 1 and heading in headings
    assert _orphans(_pages(pdf), headings) == [f"page {where[0]}: {heading}"]


def _pages_with(pdf, heading: str) -> list[int]:
    return [n for n, lines in enumerate(_pages(pdf), 1) if any(text == heading for text, _t, _b in lines)]
