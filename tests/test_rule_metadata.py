"""Rule metadata is complete, matches the catalogue contract, and the committed docs are generated from it."""

from __future__ import annotations

import re

from aoai_audit.docs import index_markdown, rule_markdown
from conftest import FIXTURES, ROOT

# The rule catalogue (the contract ids and severities answer to), as of this tree; the project's shared copy,
# where a workspace has one beside the tree, must be the same text.
CATALOGUE = FIXTURES / "catalogue" / "RULES.md"
SHARED_CATALOGUE = ROOT.parent / "shared" / "RULES.md"
# Rows the shared (read-only) catalogue does not hold yet: the attribution rules' own table.
EXTENSION = ROOT / "docs" / "attribution.md"


def builtin(registry):
    return [c.rule for c in registry.checks if c.provider == "aoai-audit"]


def test_every_rule_has_what_a_person_needs(registry):
    for rule in builtin(registry):
        assert rule.title and rule.rationale and rule.detection and rule.fix, rule.id
        if not rule.id.startswith("AU"):
            assert rule.references, f"{rule.id} cites no Azure documentation"
        for _title, url in rule.references:
            assert url.startswith("https://learn.microsoft.com/"), (rule.id, url)


def test_ids_and_severities_match_the_catalogue(registry):
    if SHARED_CATALOGUE.is_file():
        assert CATALOGUE.read_text() == SHARED_CATALOGUE.read_text(), "copy the shared RULES.md to tests/fixtures/catalogue"
    text = CATALOGUE.read_text() + EXTENSION.read_text()
    rows = dict(re.findall(r"^\| ([A-Z]{2,3}[0-9]{3}) \| (high|medium|low) \|", text, re.M))
    for rule in builtin(registry):
        assert rule.id in rows, f"{rule.id} is not in the catalogue"
        assert rule.severity.value == rows[rule.id], rule.id


def test_committed_docs_are_generated(registry):
    docs = ROOT / "docs" / "rules"
    rules = builtin(registry)
    for rule in rules:
        page = docs / f"{rule.id}.md"
        assert page.is_file(), f"run `aoai-audit docs` ({page} missing)"
        assert page.read_text() == rule_markdown(rule), f"run `aoai-audit docs` ({page} is stale)"
    assert (docs / "README.md").read_text() == index_markdown(rules)
