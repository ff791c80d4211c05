"""Real public files (not in the shared corpus) raise what a reader says they must, and nothing they must not.

Labels: tests/fixtures/real/labels.yaml, written from RULES.md before the tool ran; sources and licences in
tests/fixtures/real/SOURCES.md. The files live beside the shared corpus (../shared/real) or in
$AOAI_AUDIT_REAL; without them this test skips, like the corpus test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from real_labels import LABELS, check_file, load_labels

REAL = Path(os.environ.get("AOAI_AUDIT_REAL") or ROOT.parent / "shared" / "real")
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real material not present at {REAL}")

ALL = load_labels(LABELS)


def test_labels_cover_twenty_real_files():
    assert len(ALL) >= 20
    sources = (ROOT / "tests" / "fixtures" / "real" / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{rel}`" in sources for rel in ALL), "every labelled file has its source and licence"


@pytest.mark.parametrize("rel", sorted(ALL))
def test_real_file_matches_its_labels(rel, registry):
    wrong = check_file(REAL, rel, ALL[rel], registry)
    assert wrong == [], "\n".join(str(w) for w in wrong)
