"""Start-up paths that skip the command line's imports must answer exactly as the full command line does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import aoai_audit
from aoai_audit.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_lone_version_prints_what_clicks_version_option_prints_without_importing_the_cli():
    clicks = CliRunner().invoke(cli, ["--version"], prog_name="aoai-audit")
    assert clicks.exit_code == 0 and clicks.output == f"aoai-audit, version {aoai_audit.__version__}\n"
    proc = _run("import sys\nfrom aoai_audit.entry import main\ntry:\n    main(['--version'])\n"
                "except SystemExit as exc:\n    code = exc.code\n"
                "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich', 'lxml', 'yaml')"
                " or m in ('aoai_audit.cli', 'aoai_audit.engine', 'aoai_audit.config'))\n"
                "sys.stderr.write(f'{code} {heavy}')\n")
    assert proc.stdout == clicks.output
    assert proc.stderr == "0 []", proc.stderr


def test_version_among_other_options_still_goes_through_click():
    proc = subprocess.run([sys.executable, "-m", "aoai_audit", "--log-level", "info", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == f"aoai-audit, version {aoai_audit.__version__}\n", proc.stderr


def test_the_package_metadata_takes_its_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; tests/test_wheel.py checks the built wheel too
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "aoai_audit.__version__"}


def test_a_closed_pipe_ends_the_fast_path_as_it_ends_clicks_exit_1_without_a_traceback():
    for args in (["--version"], ["--log-level", "info", "--version"]):
        proc = subprocess.Popen([sys.executable, "-m", "aoai_audit", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.close()  # closed before the interpreter has started: its write meets a broken pipe
        err = proc.stderr.read()
        proc.stderr.close()
        assert proc.wait(timeout=60) == 1 and err == b"", (args, err)
