"""The suite tests this tree or stops (tests/tree_guard.py, run by conftest before aoai_audit is imported).

Subprocess runs of pytest on this tree, with a copy of the package put ahead of the install on PYTHONPATH (as
an installed copy would sit in site-packages); the wheel test (tests/test_wheel.py) runs the README's own
non-editable install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tree_guard
from conftest import ROOT

QUICK = "tests/test_pacing.py"  # a quick test module that imports aoai_audit


def copy_package(dest: Path) -> Path:
    """The package as an install lays it out: auditor/ as aoai_audit/, checks/ and report_templates/ inside."""
    pkg = dest / "aoai_audit"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "auditor", pkg, ignore=ignore)
    shutil.copytree(ROOT / "checks", pkg / "checks", ignore=ignore)
    shutil.copytree(ROOT / "report_templates", pkg / "report_templates", ignore=ignore)
    return pkg


def run_pytest(path_first: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(path_first), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # runs pytest in a subprocess
def test_an_installed_copy_equal_to_the_tree_is_tested(tmp_path):
    site = tmp_path / "site-packages"
    copy_package(site)
    where = subprocess.run([sys.executable, "-c", "import aoai_audit; print(aoai_audit.__file__)"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(site)  # the copy is what these tests import
    proc = run_pytest(site, QUICK)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "[100%]" in proc.stdout


@pytest.mark.slow  # runs pytest in a subprocess
def test_a_copy_that_differs_from_the_tree_stops_the_run_with_the_fix(tmp_path):
    """The issue's case: a `raise` appended to a module of the tree after a non-editable install; here the copy
    is the changed one, and a template differs too. Nothing is collected, nothing of the copy runs."""
    site = tmp_path / "site-packages"
    pkg = copy_package(site)
    with open(pkg / "context.py", "a", encoding="utf-8") as fh:
        fh.write("\nraise RuntimeError('stale copy imported')\n")
    template = next(p for p in sorted((pkg / "report_templates").rglob("*")) if p.is_file() and p.suffix != ".py")
    template.write_bytes(template.read_bytes() + b"\n")
    proc = run_pytest(site, QUICK)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-3000:]
    rel_template = template.relative_to(pkg).as_posix()
    assert (f"aoai_audit at {pkg.resolve()} is not this tree's auditor/ (2 file(s) differ: auditor/context.py, "
            f"{rel_template}); run: pip install -e '.[test]'") in out, out[-3000:]
    assert "Traceback" not in out and "stale copy imported" not in out and "passed" not in out


@pytest.mark.slow  # runs pytest in a subprocess
def test_another_checkouts_folders_stop_the_run_even_when_equal(tmp_path):
    """An editable install of a sibling checkout: not this tree, whatever it holds today."""
    checkout = tmp_path / "other-checkout"
    pkg = copy_package(checkout)
    proc = run_pytest(checkout, QUICK)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-3000:]
    assert f"aoai_audit at {pkg.resolve()} is another checkout's auditor/" in out and "pip install -e" in out


def test_files_are_compared_by_content_not_by_date(tmp_path):
    tree, copy = tmp_path / "tree", tmp_path / "site-packages" / "pkg"
    for folder in (tree, copy):
        (folder / "sub").mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / "sub" / "data.yaml").write_text("a: 1\n")
        (folder / "same.py").write_text("x = 1\n")
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "same.cpython-311.pyc").write_bytes(os.urandom(8))  # never compared
    os.utime(copy / "same.py", (0, 0))  # an old date, the same content: not a difference
    assert tree_guard.differences(tree, copy, set(), set()) == []
    (copy / "sub" / "data.yaml").write_text("a: 2\n")  # same length, other content
    os.utime(copy / "sub" / "data.yaml", ((tree / "sub" / "data.yaml").stat().st_mtime,) * 2)
    (tree / "new.py").write_text("")  # in the tree, not in the copy
    (copy / "gone.py").write_text("")  # in the copy, no longer in the tree
    assert tree_guard.differences(tree, copy, set(), set()) == ["gone.py", "new.py", "sub/data.yaml"]


def test_this_run_imports_this_tree():
    assert tree_guard.check(ROOT) is None
