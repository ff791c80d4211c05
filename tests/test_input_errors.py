"""Bad input to `scan` and `fix` alike: one line naming the file and exit 2, never a traceback.

Every file an option names may arrive in another encoding (a UTF-16 export from PowerShell, Latin-1 from an old
spreadsheet), and an input may hold nothing auditable. Found by scripts/fuzz_inputs.py: a UTF-16 cost-centre map
or price file ended both commands in a UnicodeDecodeError, and `fix` on an unreadable template said "nothing could
be audited" without naming the file.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main
from conftest import EXAMPLE, ROOT

USAGE = ROOT / "fixtures" / "example" / "usage.csv"
CENTRES = ROOT / "fixtures" / "example" / "cost-centres.yaml"

# option → a valid file for it, re-encoded by the test
OPTIONS = {
    "--usage": USAGE,
    "--cost-centres": CENTRES,
    "--prices": None,  # written below: a one-row price file
    "--config": None,
    "--baseline": None,
    "--previous": None,
}
PRICES = "currency: USD\nprices:\n  - model: gpt-4o\n    input: 2.5\n    output: 10\n"
CONFIG = "fail_on: high\n"
REPORT = '{"findings": []}\n'
ENCODINGS = ("utf-16", "utf-32", "latin-1")
FIX_OPTIONS = ("--usage", "--cost-centres", "--prices", "--config")


def _file(tmp_path, option: str, encoding: str):
    """A file valid for the option, in `encoding`; Latin-1 ends in é (byte E9), which UTF-8 cannot decode."""
    name = {"--usage": "usage.csv", "--prices": "prices.yaml", "--cost-centres": "centres.yaml",
            "--config": "config.yaml", "--baseline": "baseline.json", "--previous": "previous.json"}[option]
    source = OPTIONS[option]
    text = source.read_text(encoding="utf-8") if source is not None else \
        {"--prices": PRICES, "--config": CONFIG}.get(option, REPORT)
    path = tmp_path / name
    path.write_bytes(text.encode(encoding, errors="replace") + (b"\xe9" if encoding == "latin-1" else b""))
    return path


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_scan_names_a_file_in_another_encoding(tmp_path, option, encoding):
    path = _file(tmp_path, option, encoding)
    fmt = "html" if option == "--previous" else "json"  # the earlier run is read for the HTML report's changes
    result = CliRunner().invoke(main, ["scan", str(EXAMPLE), option, str(path), "--format", fmt])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and "Traceback" not in result.output
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("option", FIX_OPTIONS)
def test_fix_names_a_file_in_another_encoding(tmp_path, option, encoding):
    estate = tmp_path / "apim"
    shutil.copytree(EXAMPLE, estate)
    path = _file(tmp_path, option, encoding)
    result = CliRunner().invoke(main, ["fix", str(estate), option, str(path)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("content", ["null", "[]", '{"resources": 5}', '{"format_version": "1.2", "planned_values": null}'])
def test_fix_names_an_input_with_nothing_to_audit(tmp_path, content):
    path = tmp_path / "template.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2
    assert f"nothing to fix in {path}" in result.stderr and "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == content  # never edited


def test_collect_of_an_input_with_nothing_to_read_is_exit_2_naming_it(tmp_path):
    """A snapshot of nothing would vanish silently from a sharded scan (docs/ci/sharding.md): `collect` says so as
    `scan` of the same path does; an input it could not parse is carried as a gap (AU002 in the later scan)."""
    empty = tmp_path / "empty.json"
    empty.write_text("null", encoding="utf-8")
    result = CliRunner().invoke(main, ["collect", str(empty), "--output", str(tmp_path / "snap.json")])
    assert result.exit_code == 2 and f"nothing could be read in {empty}" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(main, ["collect", str(broken), "--output", str(tmp_path / "snap2.json")])
    assert result.exit_code == 0 and "1 part(s) that could not be read" in result.stderr
    scan = CliRunner().invoke(main, ["scan", str(tmp_path / "snap2.json"), "--format", "json"])
    assert scan.exit_code == 2 and '"AU002"' in scan.stdout
