"""Usage honesty (issue 26 item 5): the window filters usage files, and usage that names what the estate does not
have is a warning in every format; a folder's name never decides which usage matches."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.report.gitlab import render_gitlab
from aoai_audit.report.html import render_html
from aoai_audit.report.json_report import render_json
from aoai_audit.report.junit import render_junit
from aoai_audit.report.markdown import render_markdown
from aoai_audit.report.sarif import render_sarif
from aoai_audit.report.text import render_text
from aoai_audit.sources.detect import load_paths
from aoai_audit.usage.costcentres import load_cost_centres
from aoai_audit.usage.model import UsageRow
from conftest import EXAMPLE, ROOT
from test_usage import CENTRES, USAGE, example_usage

USAGE_ARGS = ["--usage", str(USAGE), "--usage", str(USAGE.parent / "platform")]


def _scan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(EXAMPLE), *USAGE_ARGS, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def _audit(folder, registry, usage=None, service_name=None):
    estate = replace(load_paths([str(folder)], service_name), usage=usage or example_usage())
    return run_audit(estate, registry, Settings(cost_centres=load_cost_centres(str(CENTRES))))


def test_the_window_filters_usage_files_and_a_note_counts_what_it_left_out():
    proc = _scan("--from", "2026-11-02", "--to", "2026-11-30", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    usage = json.loads(proc.stdout)["usage"]
    assert usage["window"] == {"from": "2026-11-02", "to": "2026-11-30"}
    assert {d["day"] for d in usage["daily"]} == {"2026-11-02"}
    rows = example_usage().rows
    outside = [r for r in rows if r.day.isoformat() != "2026-11-02"]
    assert outside and any(f"{len(outside):,} usage row(s) outside the window 2026-11-02 to 2026-11-30" in n
                           for n in usage["notes"])
    platform_02 = sum(r.tokens for r in rows if r.source == "platform" and r.day.isoformat() == "2026-11-02")
    assert usage["statement"]["total"]["tokens"] == usage["platform"]["tokens"] == platform_02


def test_a_window_with_no_usage_rows_is_exit_2_naming_the_files():
    proc = _scan("--from", "2026-10-01", "--to", "2026-10-31")
    assert proc.returncode == 2 and proc.stdout == ""
    line = proc.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "2026-10-01 to 2026-10-31" in line and str(USAGE) in line and "2026-11-01 to 2026-11-02" in line


def test_without_a_window_option_usage_files_are_read_whole():
    """The live default (30 days ending yesterday) does not apply to files: their own days are the window."""
    usage = json.loads(_scan("--format", "json").stdout)["usage"]
    assert usage["window"] == {"from": "2026-11-01", "to": "2026-11-02"}
    assert not any("outside the window" in n for n in usage["notes"])


def _money_and_fingerprints(result):
    doc = json.loads(render_json(result))
    return doc["usage"]["statement"], doc["attribution"]["money"], sorted(f["fingerprint"] for f in doc["findings"])


def test_the_same_estate_under_another_folder_name_gives_the_same_money_and_fingerprints(registry, tmp_path):
    copy = tmp_path / "renamed-by-someone"
    shutil.copytree(EXAMPLE, copy)
    original, moved = _audit(EXAMPLE, registry), _audit(copy, registry)
    assert _money_and_fingerprints(moved) == _money_and_fingerprints(original)
    assert not moved.warnings
    # and the report says where the service name came from
    (source,) = moved.estate.sources
    assert "'contoso-apim' taken from the usage files" in source.detail and "renamed-by-someone" in source.detail


def test_usage_naming_a_service_the_estate_does_not_have_is_a_warning_in_every_format(registry, tmp_path):
    """--service-name decides the name (not the folder): usage that names another service is said, with both names."""
    result = _audit(EXAMPLE, registry, service_name="contoso-apim-prod")
    (warning,) = [w for w in result.warnings if "APIM service" in w]
    assert "'contoso-apim'" in warning and "contoso-apim-prod" in warning
    for render in (render_text, render_markdown, render_json, render_html, render_sarif, render_junit, render_gitlab):
        out = render(result, registry)
        assert "contoso-apim" in out and "that the estate does not have" in out, render.__name__


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("api", "no-such-api", "API(s) 'contoso-apim/no-such-api'"),
    ("account", "contoso-aoai-gone", "account(s) 'contoso-aoai-gone'"),
])
def test_usage_naming_an_api_or_account_the_estate_does_not_have_is_a_warning(registry, field, value, expected):
    data = example_usage()
    source = "gateway" if field == "api" else "platform"
    first = next(r for r in data.rows if r.source == source)
    extra = replace(first, **{field: value})
    assert isinstance(extra, UsageRow)
    result = _audit(EXAMPLE, registry, usage=replace(data, rows=(*data.rows, extra)))
    assert any(expected in w for w in result.warnings), result.warnings
    assert not _audit(EXAMPLE, registry).warnings  # the example as shipped names nothing the estate lacks


def test_a_snapshot_of_the_estate_and_its_usage_keeps_the_fingerprints(tmp_path):
    """The usage names the service in the snapshot as it did in the folder: same identity, same fingerprints."""
    snap = tmp_path / "estate.json"
    cli = [sys.executable, "-m", "aoai_audit.cli"]
    subprocess.run([*cli, "collect", str(EXAMPLE), *USAGE_ARGS, "-o", str(snap)], check=True, capture_output=True,
                   cwd=ROOT, timeout=300)
    direct, again = (json.loads(subprocess.run([*cli, "scan", *src, "--format", "json"], capture_output=True, text=True,
                                               cwd=ROOT, timeout=300).stdout)
                     for src in ([str(EXAMPLE), *USAGE_ARGS], [str(snap)]))
    assert sorted(f["fingerprint"] for f in again["findings"]) == sorted(f["fingerprint"] for f in direct["findings"])
    assert again["usage"]["statement"] == direct["usage"]["statement"]
