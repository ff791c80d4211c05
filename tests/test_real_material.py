"""Real public files (not in the shared corpus) raise what a reader says they must, and nothing they must not.

Labels: tests/fixtures/real/labels.yaml, written from RULES.md before the tool ran; sources and licences in
tests/fixtures/real/SOURCES.md, licences in tests/fixtures/real/licences/. The files are in tests/fixtures/real
(or, to measure other material, in $AOAI_AUDIT_REAL).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from real_labels import LABELS, check_file, load_labels

REAL = Path(os.environ.get("AOAI_AUDIT_REAL") or ROOT / "tests" / "fixtures" / "real")

ALL = load_labels(LABELS)


def test_labels_cover_twenty_real_files():
    assert len(ALL) >= 20
    sources = (ROOT / "tests" / "fixtures" / "real" / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{rel}`" in sources for rel in ALL), "every labelled file has its source and licence"
    assert all((REAL / rel).is_file() for rel in ALL), "every labelled file is here"


@pytest.mark.parametrize("rel", sorted(ALL))
def test_real_file_matches_its_labels(rel, registry):
    wrong = check_file(REAL, rel, ALL[rel], registry)
    assert wrong == [], "\n".join(str(w) for w in wrong)
