"""Which tests a mutant runs (benchmarks/mutation.py): beyond the tests whose coverage context ran its line, the
ranking that puts a module's own tests first, and the tests of a module that only runs at import."""

from __future__ import annotations

import re
from pathlib import Path

import mutants as mut


def focus(lines: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, float]]:
    """module → test → the share of the test's mapped lines that lie in that module: a module's own unit tests
    first (`--rank focus`), not whichever tests are fastest among the hundreds an audit-wide line has."""
    per: dict[str, dict[str, int]] = {}
    total: dict[str, int] = {}
    for path, by_line in lines.items():
        mine = per.setdefault(path, {})
        for tests in by_line.values():
            for t in tests:
                mine[t] = mine.get(t, 0) + 1
                total[t] = total.get(t, 0) + 1
    return {path: {t: n / total[t] for t, n in mine.items()} for path, mine in per.items()}


# Modules of constants that only run at import, where no test's coverage context is open, and the tests that read
# those constants: the cited Microsoft pages each rule links to are checked by the rule-metadata test (every rule
# names its sources, each a learn.microsoft.com page) and the committed rule docs generated from them.
READ_AT_IMPORT = {"checks/_refs.py": ("tests/test_rule_metadata.py",)}


def importers(rel: str, lines: dict[str, dict[str, list[str]]]) -> set[str]:
    """The tests of the modules that import `rel`: a module of constants runs only at import, during collection,
    where no test's coverage context is open, so the map gives it no test of its own."""
    if rel in READ_AT_IMPORT:
        return {t for path in lines.values() for tests in path.values() for t in tests
                if t.split("::", 1)[0] in READ_AT_IMPORT[rel]} or set(READ_AT_IMPORT[rel])
    stem = Path(rel).stem
    pattern = re.compile(rf"^\s*(from\s+\S+\s+)?import\s+.*\b{re.escape(stem)}\b|^\s*from\s+\S*\b{re.escape(stem)}\s+import",
                         re.M)
    found: set[str] = set()
    for path, by_line in lines.items():
        if path != rel and (mut.SRC / path).exists() and pattern.search((mut.SRC / path).read_text()):
            found.update(t for tests in by_line.values() for t in tests)
    return found
