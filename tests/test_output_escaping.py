"""Names and values from the estate cannot act on the reader: a hostile API display name, folder name or usage
consumer value renders inert in Markdown (as GitHub's own cmark-gfm renders it), keeps JUnit well-formed, and
reaches a terminal without its escape sequences. The hostile input is built here, through the real readers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from xml.etree import ElementTree as ET

import cmarkgfm
import pytest
from click.testing import CliRunner
from cmarkgfm.cmark import Options

from aoai_audit import cli as cli_module
from aoai_audit.report.escape import md_text, visible
from aoai_audit.rules import DOCS_BASE
from conftest import ROOT

EVIL = (
    "![pwn](https://evil.example/beacon.png) [click](https://evil.example/a) https://evil.example/b www.evil.example "
    "@acme/platform-team ops@evil.example `code` ``x`` <img src=x onerror=alert(1)> <script>alert(2)</script> "
    "| cell | **bold** &lt;ent&gt; \x1b[31mRED\x1b[0m \x1b]8;;https://evil.example/c\x07link\x1b]8;;\x07 "
    "\x9b2J \u202egnp.exe\u202c \x00\x08\x0b\x7f\ufffe line\nbreak\r\n- item"
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An APIOps folder whose LLM API has a hostile display name, and usage whose consumer value is hostile."""
    root = tmp_path_factory.mktemp("hostile")
    estate = root / "apim"
    shutil.copytree(ROOT / "fixtures" / "example" / "contoso-apim", estate)
    info = estate / "apis" / "chat-completions" / "apiInformation.json"
    doc = json.loads(info.read_text())
    doc["properties"]["displayName"] = EVIL
    info.write_text(json.dumps(doc))
    rows = list(csv.DictReader(io.StringIO((ROOT / "fixtures" / "example" / "usage.csv").read_text())))
    for row in rows:
        if row["consumer"] == "research":
            row["consumer"] = EVIL.replace("\n", " ").replace("\r", " ").replace("\x00", "")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (root / "usage.csv").write_text(out.getvalue())
    return estate, root / "usage.csv"


def scan(hostile, *args):
    estate, usage = hostile
    result = CliRunner().invoke(cli_module.main, [
        "scan", str(estate), "--usage", str(usage), "--cost-centres",
        str(ROOT / "fixtures" / "example" / "cost-centres.yaml"), *args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_the_hostile_values_reach_the_findings(hostile):
    doc = json.loads(scan(hostile, "--format", "json"))
    messages = " ".join(f["message"] for f in doc["findings"])
    assert "beacon.png" in messages and "acme/platform-team" in messages
    assert any(f["rule_id"] == "KQ002" and "beacon.png" in f["message"] for f in doc["findings"])  # the consumer


def test_markdown_renders_inert_on_github(hostile):
    md = scan(hostile, "--format", "md", "--only", "KQ002,TM003,HD003,TM005")
    assert "beacon" in md  # the hostile names are shown, as text
    assert not CONTROL.search(md)
    html = cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE)
    assert "<img" not in html and "<script" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(DOCS_BASE) for h in hrefs), hrefs  # only the tool's own rule links
    text = re.sub(r"<[^>]+>", "", html)
    # GitHub's @mention and e-mail autolinking run over the rendered text: no name character right after @
    assert not re.search(r"@[A-Za-z0-9]", text), re.findall(r".{10}@[A-Za-z0-9].{10}", text)
    assert "<code>" not in html and "<strong>bold" not in html
    # the table keeps its columns: a hostile `|` does not open a new cell
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if "beacon" in r]
    # 4: the money statement (line, how, tokens, money); 7: sev, rule, at stake, resource, where, finding, fix
    assert rows and all(r.count("<td") in (3, 4, 7) for r in rows), rows


def test_md_text_defeats_each_construct_alone():
    for evil in ("![a](http://e/x.png)", "[a](http://e)", "http://e.example", "www.e.example", "<b>x</b>",
                 "`x`", "**x**", "@team", "a@b.example", "| x |", "# h", "- li", "1. li", "> q", "$x$", "&amp;"):
        html = cmarkgfm.github_flavored_markdown_to_html(f"| a |\n|---|\n| {md_text(evil)} |\n\n{md_text(evil)}\n",
                                                         options=Options.CMARK_OPT_UNSAFE)
        body = re.sub(r"</?(table|thead|tbody|tr|th|td|p)>|\n", "", html).replace("<th>a</th>", "")
        assert not re.search(r"<(?!/)", body), (evil, html)  # nothing but text in the cell and the paragraph
        assert not re.search(r"@[A-Za-z0-9]", body), evil


def test_junit_is_well_formed_with_control_characters(hostile):
    xml = scan(hostile, "--format", "junit")
    root = ET.fromstring(xml)  # raises on a character XML 1.0 forbids
    from lxml import etree

    etree.fromstring(xml.encode("utf-8"), etree.XMLParser(recover=False))
    names = [c.get("name") or "" for c in root.iter("testcase")] + [f.get("message") or "" for f in root.iter("failure")]
    assert any("\\x1b[31mRED" in n for n in names) or "\\x1b[31mRED" in xml


@pytest.mark.parametrize("color", ["--color", "--no-color"])
def test_text_output_never_passes_escape_sequences_from_names(hostile, color):
    out = scan(hostile, "--format", "text", color)
    assert "beacon" in out and "\\x1b[31mRED" in out  # shown, visibly
    for raw in ("\x1b[31mRED", "\x1b]8;;", "\x07", "\x9b", "\u202e", "\x00", "\x08", "\x7f", "\r"):
        assert raw not in out, repr(raw)
    if color == "--no-color":
        assert "\x1b" not in out


def test_visible_shows_controls_and_keeps_what_is_asked():
    assert visible("a\x1b[1mb\tc\n") == "a\\x1b[1mb\\x09c\\x0a"
    assert visible("a\tb\nc\x85", keep="\t\n") == "a\tb\nc\\x85"
    assert visible("\u202eabc\u2066") == "\\u202eabc\\u2066"


def test_diff_text_never_passes_escape_sequences_from_reports():
    from aoai_audit.report.diff import diff_reports, render_diff

    finding = {"fingerprint": "f1", "rule_id": "TM001", "severity": "high", "resource": "service/x/apis/\x1b]8;;evil\x07",
               "message": "\x1b[2J\x1b[31mpwned"}
    text = render_diff(diff_reports({"findings": []}, {"findings": [finding]}))
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[31mpwned" in text
