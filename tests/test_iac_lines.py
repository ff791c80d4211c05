"""ARM templates and Terraform plans with byte-identical policy texts in two resources: each API's findings, SARIF
regions and `fix` statements point at the line of its own resource's policy value (found by its JSON path), never
at the first string in the file that reads the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main as cli
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.report.sarif import render_sarif
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.json_lines import JsonPathLines
from conftest import FIXTURES

CASES = [
    # (file, the line that names each API's policy resource, the key of its policy text)
    ("arm/twin-policies.json", "\"name\": \"[format('{{0}}/{api}/policy', parameters('service'))]\"", '"value": '),
    ("terraform/twin-policies.plan.json", '"address": "module.gateway.azurerm_api_management_api_policy.{api}"',
     '"xml_content": '),
]
TWINS = ("chat", "embeddings")


def _own_line(path: Path, marker: str, key: str, api: str) -> int:
    """The line of the policy text of `api`'s own policy resource: the first `key` after the line naming it."""
    lines = path.read_text().splitlines()
    start = next(i for i, x in enumerate(lines) if marker.format(api=api) in x)
    return next(i for i in range(start, len(lines)) if key in lines[i]) + 1


@pytest.mark.parametrize(("name", "marker", "key"), CASES)
def test_each_policy_is_at_its_own_line(name: str, marker: str, key: str, registry) -> None:
    path = FIXTURES / name
    own = {api: _own_line(path, marker, key, api) for api in (*TWINS, "completions")}
    text = path.read_text().splitlines()
    assert text[own["chat"] - 1] == text[own["embeddings"] - 1], "the two policy texts are byte-identical"
    assert own["chat"] != own["embeddings"]
    result = run_audit(load_paths([str(path)]), registry, Settings())
    located = {}
    for f in result.findings:
        api = f.resource.rsplit("/apis/", 1)[-1] if "/apis/" in f.resource else None
        if api in own and f.rule_id in ("TM001", "TM007", "HD001"):
            located.setdefault(api, set()).add(f.location.line)
    assert located == {"chat": {own["chat"]}, "embeddings": {own["embeddings"]}, "completions": {own["completions"]}}

    runs = json.loads(render_sarif(result, registry))["runs"][0]["results"]
    regions = {}
    for r in runs:
        api = next((a for a in own if r["message"]["text"].startswith(f"LLM API '{a.title()}'")), None)
        phys = r["locations"][0]["physicalLocation"]
        if api and r["ruleId"] in ("TM001", "TM007"):
            regions.setdefault(api, set()).add(phys["region"]["startLine"])
    assert regions == {"chat": {own["chat"]}, "embeddings": {own["embeddings"]}}


@pytest.mark.parametrize(("name", "marker", "key"), CASES)
def test_fix_statements_name_each_resources_own_line(name: str, marker: str, key: str, tmp_path: Path,
                                                     monkeypatch) -> None:
    shutil.copy(FIXTURES / name, tmp_path / "t.json")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["fix", "t.json"], catch_exceptions=False).stdout
    for api in TWINS:
        line = _own_line(tmp_path / "t.json", marker, key, api)
        head = next(x for x in out.splitlines() if x.startswith("# TM007 ") and x.split(":")[0].endswith(f"/{api}"))
        assert head.endswith(f"(in t.json:{line})"), head


def test_line_index_follows_paths_not_text(tmp_path: Path) -> None:
    """Identical strings, escaped keys and nested arrays: each value at its own line; a one-line file has none."""
    doc = {"a": [{"v": "x" * 30}, {"v": "x" * 30}], "k\"q": {"name": "n"}, "b": [[1, {"v": "y"}]]}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc, indent=1))
    lines = path.read_text().splitlines()
    index = JsonPathLines(str(path), frozenset({"v", "name"}))
    for where in (("a", 0, "v"), ("a", 1, "v"), ("k\"q", "name"), ("b", 0, 1, "v")):
        value = doc
        for step in where:
            value = value[step]  # type: ignore[index]
        line = index.line_at(where)
        assert line is not None and json.dumps(value) in lines[line - 1], where
    assert index.line_at(("a", 0, "v")) != index.line_at(("a", 1, "v"))
    assert index.line_at(("a", 2, "v")) is None
    assert JsonPathLines(str(path), frozenset({"name"})).line_at(("a", 0, "v")) is None, "only the keys asked for"
    path.write_text(json.dumps(doc))
    assert JsonPathLines(str(path), frozenset({"v"})).line_at(("a", 0, "v")) is None
