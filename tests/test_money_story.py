"""One money story: the per-team table adds up to its Total, and each row equals the FOCUS file's to the cent."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser

from aoai_audit.report.focus import render_focus
from aoai_audit.report.html import render_html
from aoai_audit.usage.tally import CONSUMER, cents
from test_usage import example_result


class _Table(HTMLParser):
    """Rows of the per-team table as (bucket, name, cents, tokens); the Total row's bucket is 'total'."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.rows, self.row, self.cell = False, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "usage-table":
            self.inside = True
        if not self.inside:
            return
        if tag == "tr" and ("data-bucket" in a or "data-total" in a):
            self.row = {"bucket": a.get("data-bucket", "total"), "texts": [], "cents": None, "tokens": None}
        if self.row is not None and tag in ("td", "th"):
            self.cell = []
            if "data-cents" in a:
                self.row["cents"] = Decimal(a["data-cents"])

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row["texts"].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.row["tokens"] = int(self.row["texts"][2].replace(",", ""))
            money = re.search(r"-?[\d,]+\.\d\d", self.row["texts"][1].replace("USD", "").replace("\u2212", "-"))
            assert money and Decimal(money.group().replace(",", "")) == self.row["cents"], self.row
            self.rows.append(self.row)
            self.row = None
        elif tag == "table":
            self.inside = False


def _table(result, registry):
    parser = _Table()
    parser.feed(render_html(result, registry))
    body = [r for r in parser.rows if r["bucket"] != "total"]
    (total,) = [r for r in parser.rows if r["bucket"] == "total"]
    return body, total


def test_the_per_team_table_adds_up_to_its_total_which_is_the_platform_total(registry):
    result = example_result(registry)
    body, total = _table(result, registry)
    usage = result.ctx.usage
    assert sum(r["tokens"] for r in body) == total["tokens"] == usage.platform.tokens
    assert sum(r["cents"] for r in body) == total["cents"] == cents(usage.platform.money)
    assert {r["bucket"] for r in body} >= {"consumer", "unknown", "unmetered"}


def test_every_row_of_the_table_equals_the_focus_file_to_the_cent(registry):
    result = example_result(registry)
    body, _total = _table(result, registry)
    focus = list(csv.DictReader(io.StringIO(render_focus(result, registry))))
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in focus:
        key = (row["x_Bucket"], row["x_Consumer"] if row["x_Bucket"] == CONSUMER else "")
        sums[key][0] += Decimal(row["x_Tokens"])
        sums[key][1] += Decimal(row["BilledCost"])
    for r in body:
        key = (r["bucket"], r["texts"][0] if r["bucket"] == CONSUMER else "")
        assert sums[key] == [Decimal(r["tokens"]), r["cents"]], (key, sums[key], r)
    assert len(sums) == len(body)
    # and the FOCUS file adds up to the same Total
    assert sum(v[1] for v in sums.values()) == cents(result.ctx.usage.platform.money)
