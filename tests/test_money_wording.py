"""Wording the money story can stand behind: no share nobody measured, counts that match, Markdown escaped once."""

from __future__ import annotations

import subprocess
import sys

import cmarkgfm

from aoai_audit.report.markdown import render_markdown
from conftest import EXAMPLE, ROOT, audit
from test_usage import example_result


def test_st002_states_no_streamed_share_where_usage_shows_no_streamed_call(registry):
    result = example_result(registry)
    st002 = [f for f in result.findings if f.rule_id == "ST002"]
    assert st002 and result.ctx.estate.usage is not None
    assert sum(r.streamed_tokens for r in result.ctx.estate.usage.gateway) == 0  # token metrics do not say
    assert all("% " not in f.message and "were streamed" not in f.message for f in st002)


def test_collect_says_how_many_findings_the_saved_estate_has(registry, tmp_path):
    out = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "collect", str(EXAMPLE), "-o", str(tmp_path / "s.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"{len(audit(EXAMPLE, registry).active)} finding(s)" in out.stderr


def test_markdown_is_escaped_once_as_github_renders_it(registry):
    html = cmarkgfm.github_flavored_markdown_to_html(render_markdown(example_result(registry), registry))
    assert "&amp;lt;" not in html and "&amp;gt;" not in html  # an entity shown as text: escaped twice
    assert "<code>&lt;base/&gt;</code>" in html  # the fix text's code reads <base/>
    assert "<base" not in html.replace("&lt;base", "")  # and never becomes an element
