"""Secrets planted where they occur in the field never reach any output format or snapshot."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

PLANTED = {
    "fixtures/example/contoso-apim": ["4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99"],  # literal api-key header
    "tests/fixtures/arm/nested.json": ["do-not-keep-this-value-0123456789"],  # secret named value in ARM
    "tests/fixtures/terraform/plan.json": ["tf-secret-value-should-never-appear-0123"],  # in Terraform
    "tests/fixtures/rules/SEC001/fires": ["0123456789abcdef0123456789abcdef",  # api-key header
                                          "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2B%3D"],  # SAS signature
}


@pytest.mark.parametrize("path", sorted(PLANTED))
def test_no_output_format_or_snapshot_holds_a_planted_secret(path, tmp_path):
    source = (ROOT / path)
    text = "".join(p.read_text(errors="ignore") for p in ([source] if source.is_file() else source.rglob("*")) if p.is_file())
    assert all(s in text for s in PLANTED[path]), "the fixture must really contain the secret"
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aoai_audit.cli", "scan", path, "--output-dir", str(out)]
    for fmt in ("text", "json", "sarif", "html", "md", "junit"):
        cmd += ["--format", fmt]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    snap = tmp_path / "snap.json"
    subprocess.run([sys.executable, "-m", "aoai_audit.cli", "collect", path, "-o", str(snap)], check=True,
                   capture_output=True, cwd=ROOT)
    written = [p.read_text() for p in out.iterdir()] + [snap.read_text(), proc.stdout, proc.stderr]
    assert len(written) == 9
    for secret in PLANTED[path]:
        assert not any(secret in w for w in written), secret
