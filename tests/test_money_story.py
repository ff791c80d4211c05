"""One money story: every format's per-team statement adds up to its Total, and each line is the same to the cent
in HTML, Markdown, text, JSON and the FOCUS file."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser

from aoai_audit.attribution.statement import NEVER, OVER, PASSED, TEAM, UNKNOWN_LINE
from aoai_audit.report.focus import render_focus
from aoai_audit.report.html import render_html
from aoai_audit.report.json_report import render_json
from aoai_audit.report.markdown import render_markdown
from aoai_audit.report.text import render_text
from aoai_audit.usage.tally import cents
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


def _money(text: str) -> Decimal:
    found = re.search(r"-?[\d,]+\.\d\d", text.replace("\u2212", "-"))
    assert found, text
    return Decimal(found.group().replace(",", ""))


def _markdown(result, registry) -> list[tuple[str, int, Decimal]]:
    """The Markdown statement's rows as (name, tokens, money), the Total last."""
    lines = render_markdown(result, registry).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| money per team, down to the total"))
    rows = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]]
        rows.append((cells[0].strip("*").replace("\\", ""), int(cells[2].replace(",", "")), _money(cells[3])))
    return rows


def _text(result, registry) -> list[tuple[str, int, Decimal]]:
    """The text report's statement rows as (name, tokens, money), the Total last."""
    out, inside = [], False
    for ln in render_text(result, registry, width=400).splitlines():
        if ln.startswith("  money per team, down to the total"):
            inside = True
            continue
        if inside and not ln.startswith("    "):
            break
        if inside:
            name, rest = ln.strip().split(": ", 1)
            tokens = re.search(r", (-?[\d,]+) tokens", rest)
            out.append((name, int(tokens.group(1).replace(",", "")), _money(rest)))
    return out


def _focus(result, registry) -> dict[tuple[str, str], list[Decimal]]:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for row in csv.DictReader(io.StringIO(render_focus(result, registry))):
        key = (row["x_Line"], row["x_LineName"])
        sums[key][0] += Decimal(row["x_Tokens"])
        sums[key][1] += Decimal(row["BilledCost"])
        sums[key][2] += Decimal(row["x_UnpricedTokens"])
    return sums


def test_the_per_team_table_adds_up_to_its_total_which_is_the_platform_total(registry):
    result = example_result(registry)
    body, total = _table(result, registry)
    usage = result.ctx.usage
    assert sum(r["tokens"] for r in body) == total["tokens"] == usage.platform.tokens
    assert sum(r["cents"] for r in body) == total["cents"] == cents(usage.platform.money)
    # every reconciliation line is there, zero or not: teams, unknown, passed the gateway unmetered, never reached
    # the gateway, over-metered
    assert [r["bucket"] for r in body if r["bucket"] != TEAM] == [UNKNOWN_LINE, PASSED, NEVER, OVER]
    assert {r["texts"][0] for r in body if r["bucket"] == TEAM} == {c.value for c in usage.consumers}


def test_every_format_states_the_same_lines_to_the_cent_and_each_adds_up_to_its_total(registry):
    result = example_result(registry)
    doc = json.loads(render_json(result, registry))
    st = doc["usage"]["statement"]
    json_rows = [(ln["name"], ln["tokens"], Decimal(ln["money"])) for ln in st["lines"]]
    json_total = (st["total"]["tokens"], Decimal(st["total"]["money"]))
    assert (sum(t for _n, t, _m in json_rows), sum((m for _n, _t, m in json_rows), Decimal(0))) == json_total
    body, total = _table(result, registry)
    html_rows = [(r["texts"][0], r["tokens"], r["cents"]) for r in body]
    md, text = _markdown(result, registry), _text(result, registry)
    for rows, name in ((md, "markdown"), (text, "text")):
        *lines, (_label, tokens, money) = rows
        assert (sum(t for _n, t, _m in lines), sum((m for _n, _t, m in lines), Decimal(0))) == (tokens, money), name
        assert (tokens, money) == json_total, name
        assert lines == json_rows, name
    assert html_rows == json_rows and (total["tokens"], total["cents"]) == json_total
    # the FOCUS file, summed per line, is the same statement to the cent (and its rows add up to the same total)
    focus = _focus(result, registry)
    by_line = {(ln["line"], ln["name"]): ln for ln in st["lines"]}
    for key, (tokens, money, unpriced) in focus.items():
        ln = by_line[key]
        assert (tokens, money, unpriced) == (ln["tokens"], Decimal(ln["money"]), ln["unpriced_tokens"]), key
    assert {k for k, ln in by_line.items() if ln["tokens"]} == set(focus)
    # the JSON's per-team figures (consumers) are the statement's, not a second rounding of the same money
    for c in doc["usage"]["consumers"]:
        ln = by_line[(TEAM, c["consumer"])]
        assert Decimal(str(c["money"])) == Decimal(ln["money"]) and c["tokens"] == ln["tokens"]
    # the money by path table adds up to its total too, and what went to no team is the statement's no-team lines
    m = doc["attribution"]["money"]
    assert sum(Decimal(b["money_exact"]) for b in m["buckets"]) == Decimal(m["total"]["money_exact"]) == json_total[1]
    assert Decimal(m["went_to_no_team"]["money_exact"]) == Decimal(st["went_to_no_team"]["money"])
    assert m["went_to_no_team"]["tokens"] == st["went_to_no_team"]["tokens"]


def test_each_bucket_quotes_its_own_unpriced_tokens(registry):
    """The first screen's no-team box quotes the no-team lines' unpriced tokens, not the platform's."""
    result = example_result(registry)
    doc = json.loads(render_json(result, registry))
    st = doc["usage"]["statement"]
    own, platform = st["went_to_no_team"]["unpriced_tokens"], doc["usage"]["platform"]["unpriced_tokens"]
    assert 0 < own < platform
    page = render_html(result, registry)
    box = re.search(r"data-unattributed>(.*?)</div>\s*</div>", page, re.S).group(1)
    assert f"{own:,} tokens have no price" in box and f"{platform:,}" not in box
    assert sum(ln["unpriced_tokens"] for ln in st["lines"]) == platform
