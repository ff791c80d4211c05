"""A rule holds all of itself: its check file's prefix, its `RULE.id`, its entry point and its generated page agree,
and what the report draws from a rule (its link of the attribution chain) is read from the rule."""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import replace

import pytest

from aoai_audit.docs import rule_markdown
from aoai_audit.findings import Severity
from aoai_audit.report.chain import chain, chains
from aoai_audit.rules import CHAIN_LINKS, Rule
from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli on 3.10
    import tomli as tomllib

CHECKS = ROOT / "checks"
DOCS = ROOT / "docs" / "rules"
PREFIX = re.compile(r"^([a-z]{2,3}[0-9]{3})_[a-z0-9_]+$")


def _check_files() -> list[str]:
    return sorted(p.stem for p in CHECKS.glob("*.py") if not p.stem.startswith("_"))


def _entry_points() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["entry-points"]["aoai_audit.checks"]


def test_every_check_file_its_rule_id_entry_point_and_page_agree():
    files = _check_files()
    entry_points = _entry_points()
    assert files, "no check files found"
    for stem in files:
        m = PREFIX.match(stem)
        assert m, f"checks/{stem}.py: a check file is named <rule id in lower case>_<what it finds>.py"
        rule = importlib.import_module(f"aoai_audit.checks.{stem}").RULE
        assert rule.id == m.group(1).upper(), f"checks/{stem}.py declares RULE.id {rule.id}"
        assert entry_points.get(rule.id) == f"aoai_audit.checks.{stem}", (
            f"pyproject.toml [project.entry-points.\"aoai_audit.checks\"] needs {rule.id} = \"aoai_audit.checks.{stem}\"")
        page = DOCS / f"{rule.id}.md"
        assert page.is_file() and page.read_text() == rule_markdown(rule), f"run `aoai-audit docs` ({page.name})"
    ids = {PREFIX.match(s).group(1).upper() for s in files}  # type: ignore[union-attr]
    assert set(entry_points) == ids, f"entry points without a check file: {sorted(set(entry_points) - ids)}"
    pages = {p.stem for p in DOCS.glob("*.md") if p.stem != "README"}
    assert pages == ids, f"pages without a check file: {sorted(pages - ids)}"


def test_the_chain_is_drawn_from_the_rules_own_link(registry):
    rules = list(registry.rules)
    drawn = {key: ids for key, _label, ids in chain(rules)}
    assert [key for key, _ in CHAIN_LINKS] == list(drawn)
    for rule in rules:
        for key, ids in drawn.items():
            assert (rule.id in ids) == (rule.chain_link == key), (rule.id, key)
    # a third-party rule joins the link it names, after the built-in ones
    extra = Rule("ZZ001", "t", Severity.LOW, "r", "d", "f", chain_link="price")
    assert {key: ids for key, _label, ids in chain([*rules, extra])}["price"] == (*drawn["price"], "ZZ001")


def test_a_finding_of_a_rule_breaks_the_link_that_rule_names(registry):
    from aoai_audit.report.json_report import result_dict
    from test_usage import example_result

    doc = result_dict(example_result(registry), registry)
    rows = chains(doc, registry.rules)
    broken = [(r["api"]["api"], link.key, link.why) for r in rows for link in r["links"] if link.status == "broken"]
    assert broken, "the example breaks some links"
    api, key, why = broken[0]
    moved = [replace(r, chain_link="price" if key != "price" else "identity") if r.id in why.split(", ") else r
             for r in registry.rules]
    again = {(r["api"]["api"], link.key): link for r in chains(doc, moved) for link in r["links"]}
    assert again[(api, key)].status != "broken" or set(again[(api, key)].why.split(", ")) != set(why.split(", "))
    assert again[(api, "price" if key != "price" else "identity")].status == "broken"


def test_a_rule_naming_no_link_of_the_chain_does_not_load():
    with pytest.raises(ValueError, match="chain_link"):
        Rule("ZZ002", "t", Severity.LOW, "r", "d", "f", chain_link="billing")
