"""The tool's own input files of the wrong shape are one line naming the file and the key, exit 2 (issue 24,
item 8), never "internal error"; API names holding bare URLs reach Markdown as text (GitHub's renderer,
cmarkgfm, makes no link of them).

Log Analytics response shape: https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format
"""

from __future__ import annotations

import json

import cmarkgfm
import pytest
from click.testing import CliRunner

from aoai_audit.cli import main
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import Api, ApimService, Estate, SourceInfo
from aoai_audit.report.markdown import render_markdown
from conftest import ROOT

TREE = str(ROOT / "tests" / "fixtures" / "rules" / "TM008" / "passes" / "apim")


def _run(*args: str):
    return CliRunner().invoke(main, ["scan", TREE, "--quiet", *args])


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"findings": [{"rule_id": "TM001"}]}, "findings[0].fingerprint: expected text, got nothing"),
        ({"findings": [{"fingerprint": [1]}]}, "findings[0].fingerprint: expected text, got list"),
        ({"findings": [1]}, "findings[0]: expected an object, got int"),
        ({"findings": [{"fingerprint": "a", "rule_id": 5, "severity": "high", "resource": "r", "message": "m"}]},
         "findings[0].rule_id: expected text, got int"),
        ({"findings": [{"fingerprint": "a", "rule_id": "X", "severity": "high", "resource": "r", "message": "m",
                        "suppressed_by": 3}]}, "findings[0].suppressed_by: expected text or null, got int"),
    ],
)
def test_previous_report_of_the_wrong_shape(tmp_path, body, key):
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(body))
    for args in (["--previous", str(previous), "--format", "html", "-o", str(tmp_path / "r.html")],):
        result = _run(*args)
        assert result.exit_code == 2, result.output
        assert f"{previous}: {key}" in result.output and "internal error" not in result.output
    diff = CliRunner().invoke(main, ["diff", str(previous), str(previous)])
    assert diff.exit_code == 2 and f"{previous}: {key}" in diff.output


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"tables": [5]}, "tables[0]: expected an object with columns and rows"),
        ({"tables": [{"columns": 5, "rows": []}]}, "tables[0]: columns and rows must be lists"),
        ({"tables": [{"columns": [{"name": 5}], "rows": [["x"]]}]}, "tables[0].columns[0]: expected an object with a text name"),
        ({"tables": [{"columns": [{"name": "day"}], "rows": [5]}]}, "tables[0].rows[0]: expected a list of values"),
    ],
)
def test_usage_export_of_the_wrong_shape(tmp_path, body, key):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps(body))
    result = _run("--usage", str(usage), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 2, result.output
    assert f"{usage}: {key}" in result.output and "internal error" not in result.output


def test_bare_urls_in_names_render_as_text_on_github(registry):
    api = Api("https://evil.example.com/x", "https://evil.example.com/y www.evil.example.com", "p",
              "https://contoso.openai.azure.com/openai", subscription_required=False)
    service = ApimService("http://svc.example.com", "", apis=(api,))
    estate = Estate(sources=(SourceInfo("apiops", "x", frozenset({"apis", "policies"})),), services=(service,))
    html = cmarkgfm.github_flavored_markdown_to_html(render_markdown(run_audit(estate, registry, Settings()), registry))
    assert "evil.example.com/y" in html and "svc.example.com" in html
    assert "example.com" not in " ".join(part.split(">", 1)[0] for part in html.split("<a ")[1:])
