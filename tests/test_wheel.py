"""What users install is what is tested: build the wheel from the project's own files, check that every
module, template and data file of the source folders is inside, install it into a fresh virtual
environment and run the installed console script on the bundled example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import aoai_audit
from conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.slow  # builds a wheel and virtual environments

# Source folder → where its files sit inside the wheel (pyproject/setup.py map them the same way).
MAPPED = {"auditor": "aoai_audit", "checks": "aoai_audit/checks", "report_templates": "aoai_audit/report_templates"}


def _expected_members() -> set[str]:
    expected = set()
    for folder, target in MAPPED.items():
        for path in (ROOT / folder).rglob("*"):
            rel = path.relative_to(ROOT / folder)
            if not path.is_file() or "__pycache__" in rel.parts or path.suffix in {".pyc", ".pyo"}:
                continue
            # a mapped root's sub-folder that is itself mapped (none today) would be counted once, under its own target
            expected.add(f"{target}/{rel.as_posix()}")
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # from a clean copy: a stale build/ folder in the checkout would hide a module missing from the package list
    source = tmp_path_factory.mktemp("source") / "aoai-audit"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".venv", "out", ".work"))
    # built the way pip builds it for a user: in an isolated environment with the declared build backend
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out),
                           str(source)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheels = list(out.glob("aoai_audit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_every_module_template_and_data_file(wheel):
    members = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_expected_members() - members)
    assert not missing, f"missing from the wheel: {missing}"
    # the entry points name modules that are inside it
    entry_points = next(n for n in members if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for line in text.splitlines():
        if "=" in line and line.strip().startswith(("TM", "HD", "ST", "SEC", "DG", "RB", "KQ", "BY", "OW", "AU", "aoai-audit")):
            module = line.split("=", 1)[1].strip().split(":")[0]
            assert module.replace(".", "/") + ".py" in members, line


def install_wheel(wheel: Path, env_dir: Path) -> tuple[Path, Path]:
    """A fresh virtual environment with the wheel installed (not editable): (its bin folder, its site-packages)."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True, timeout=300)
    # The wheel's dependencies come from this test environment: a .pth, written after the install (so pip does not
    # take this environment's own aoai-audit for the one asked for), appends its site-packages after the new
    # environment's; the package itself comes only from the wheel. Every site-packages folder this environment
    # reads, in its order: a virtual environment made with --system-site-packages finds its dependencies in the
    # base interpreter's.
    own_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    deps = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
            *(p for p in sys.path if Path(p).name in ("site-packages", "dist-packages"))]
    (own_site / "test-deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    return bindir, own_site


CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def test_installed_console_script_runs_outside_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    bindir, _ = install_wheel(wheel, env_dir)
    python = bindir / "python"
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = CLEAN_ENV
    where = subprocess.run([str(python), "-c", "import aoai_audit; print(aoai_audit.__file__)"], cwd=workdir,
                           capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert Path(where).is_relative_to(env_dir), f"imported {where}, not the installed wheel"
    script = bindir / "aoai-audit"
    version = subprocess.run([str(script), "--version"], cwd=workdir, capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout == f"aoai-audit, version {aoai_audit.__version__}\n", version.stderr
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    assert f"\nVersion: {aoai_audit.__version__}\n" in zipfile.ZipFile(wheel).read(metadata).decode()
    # the README's first command on the bundled example: exit 1 (the example has planted gaps), a report
    scan = subprocess.run([str(script), "scan", str(EXAMPLE), "--usage", str(EXAMPLE.parent / "usage.csv"),
                           "--usage", str(EXAMPLE.parent / "platform"), "--cost-centres", str(EXAMPLE.parent / "cost-centres.yaml"), "--format", "html",
                           "--output", str(workdir / "r.html")], cwd=workdir, capture_output=True, text=True, env=env)
    assert scan.returncode == 1, scan.stderr[-3000:]
    assert "Traceback" not in scan.stderr
    html = (workdir / "r.html").read_text(encoding="utf-8")
    assert "<html" in html and "went to no team" in html
    # every rule loads from the installed entry points
    rules = subprocess.run([str(script), "rules"], cwd=workdir, capture_output=True, text=True, env=env)
    assert rules.returncode == 0 and "warning" not in rules.stderr, rules.stderr
    assert len([line for line in rules.stdout.splitlines() if line.strip()]) >= 33


def test_the_readmes_non_editable_install_is_tested_and_a_changed_tree_stops_the_run(wheel, tmp_path):
    """README: `pip install ".[test]" && python3 -m pytest`, a copy of the tree in site-packages. The suite runs
    on it while it equals the tree; once the tree moves on (here: the installed copy is changed, the same
    difference seen from the other side), conftest's guard stops the run and says how to fix it."""
    bindir, site = install_wheel(wheel, tmp_path / "venv")
    command = [str(bindir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pacing.py"]
    proc = subprocess.run(command, cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "[100%]" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(site / "aoai_audit" / "context.py", "a", encoding="utf-8") as fh:
        fh.write("\nraise RuntimeError('stale copy imported')\n")
    proc = subprocess.run(command, cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-3000:]
    assert (f"aoai_audit at {(site / 'aoai_audit').resolve()} is not this tree's auditor/ (1 file(s) differ: "
            "auditor/context.py); run: pip install -e '.[test]'") in out, out[-3000:]
