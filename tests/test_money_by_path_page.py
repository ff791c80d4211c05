"""The money-by-path table on the page adds up: its rows sum to its total row, in tokens and in money, and the
'went to no team' figure is stated beside it as a part of those rows, never as a row a reader would add again."""

from __future__ import annotations

import re
from decimal import Decimal

import lxml.html

from aoai_audit.report.html import render_html
from test_usage import example_result


def _money(text: str) -> Decimal:
    found = re.search(r"-?[\d,]+\.\d\d", text.replace("\u2212", "-"))
    assert found, text
    return Decimal(found.group().replace(",", ""))


def test_money_by_path_rows_add_up_to_the_total_row(registry):
    page = lxml.html.fromstring(render_html(example_result(registry), registry))
    (table,) = page.xpath('//table[contains(@class, "money-by-path")]')
    rows = [[c.text_content().strip() for c in tr.xpath("./td|./th")] for tr in table.xpath(".//tbody/tr")]
    body, total = rows[:-1], rows[-1]
    assert total[0] == "total" and len(body) >= 4, rows
    assert sum(int(r[1].replace(",", "")) for r in body) == int(total[1].replace(",", ""))
    assert sum(_money(r[2]) for r in body) == _money(total[2])
    assert not any("no team" in r[0] for r in body), "a subtotal inside the rows is counted twice by anyone adding up"
    (note,) = page.xpath('//*[@data-went-to-no-team]')
    shared = next(r for r in body if r[0].startswith("not attributable") and "shared" in r[0])
    owner = next(r for r in body if r[0].startswith("not attributable") and "owner" in r[0])
    assert _money(note.text_content()) == _money(shared[2]) + _money(owner[2])
