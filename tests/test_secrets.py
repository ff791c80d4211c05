"""Secrets planted where they occur in the field never reach any output format or snapshot."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, SCAN_FORMATS

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
    for fmt in SCAN_FORMATS:
        cmd += ["--format", fmt]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    snap = tmp_path / "snap.json"
    subprocess.run([sys.executable, "-m", "aoai_audit.cli", "collect", path, "-o", str(snap)], check=True,
                   capture_output=True, cwd=ROOT)
    written = [p.read_text() for p in out.iterdir()] + [snap.read_text(), proc.stdout, proc.stderr]
    assert len(written) == len(SCAN_FORMATS) + 3
    for secret in PLANTED[path]:
        assert not any(secret in w for w in written), secret


JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlLWFjY291bnQtMTIzNCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS0xMjM0NTY3OA"
STORAGE_KEY = "c3RvcmFnZS1hY2NvdW50LWtleS10aGF0LW11c3Qtbm90LWxlYWs="
HUB_KEY = "ZXZlbnQtaHViLWtleS10aGF0LW11c3Qtbm90LWxlYWstMDEyMw="
IKEY = "9d8b5a2e-1c4f-4e6a-9b3d-7f2e1a0c5b44"
SAS_SIG = "U0FTLXNpZ25hdHVyZS10aGF0LW11c3Qtbm90LWxlYWs%3D"
NV_SECRET = "named-value-secret-value-that-must-not-leak"
PLAIN_NV = "plain-named-value-holding-a-key-0123456789"
EVERYWHERE = (JWT, STORAGE_KEY, HUB_KEY, IKEY, SAS_SIG, NV_SECRET, PLAIN_NV)


def _secret_tree(root):
    """An APIOps tree with a secret in every place they turn up in the field."""
    import json
    import shutil

    from conftest import EXAMPLE

    tree = root / "apim"
    shutil.copytree(EXAMPLE, tree)
    (tree / "apis" / "weather" / "policy.xml").write_text(f"""<policies><inbound><base />
  <set-header name="Authorization" exists-action="override"><value>Bearer {JWT}</value></set-header>
  <send-request mode="new" response-variable-name="blob">
    <set-url>https://contoso.blob.core.windows.net/c/usage.json?sv=2022-11-02&amp;sig={SAS_SIG}</set-url>
  </send-request>
  <set-variable name="conn" value="DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={STORAGE_KEY};EndpointSuffix=core.windows.net" />
</inbound></policies>""")
    hub = tree / "loggers" / "usage-hub"
    hub.mkdir()
    (hub / "loggerInformation.json").write_text(json.dumps({"properties": {"loggerType": "azureEventHub", "credentials": {
        "connectionString": f"Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={HUB_KEY}",
        "name": "usage"}}}))
    ai = tree / "loggers" / "appinsights" / "loggerInformation.json"
    data = json.loads(ai.read_text())
    data["properties"]["credentials"] = {"instrumentationKey": IKEY,
                                         "connectionString": f"InstrumentationKey={IKEY};IngestionEndpoint=https://x/"}
    ai.write_text(json.dumps(data))
    for name, secret, value in (("backend-secret", True, NV_SECRET), ("storage-key", False, PLAIN_NV)):
        nv = tree / "named values" / name
        nv.mkdir(parents=True)
        (nv / "namedValueInformation.json").write_text(json.dumps({"properties": {
            "displayName": name, "secret": secret, "value": value}}))
    return tree


def test_secrets_in_every_field_place_reach_no_output_snapshot_or_debug_log(tmp_path):
    tree = _secret_tree(tmp_path)
    assert all(s in "".join(p.read_text() for p in tree.rglob("*") if p.is_file()) for s in EVERYWHERE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aoai_audit.cli", "--log-level", "debug", "scan", str(tree), "--output-dir", str(out)]
    for fmt in SCAN_FORMATS:
        cmd += ["--format", fmt]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert "DEBUG" in proc.stderr  # the debug log was really on
    snap = tmp_path / "snap.json.gz"
    subprocess.run([sys.executable, "-m", "aoai_audit.cli", "--log-level", "debug", "collect", str(tree), "-o", str(snap)],
                   check=True, capture_output=True, cwd=ROOT)
    import gzip

    written = [p.read_text() for p in out.iterdir()] + [gzip.decompress(snap.read_bytes()).decode(), proc.stdout,
                                                       proc.stderr]
    leaks = [s for s in EVERYWHERE if any(s in w for w in written)]
    assert leaks == []
    # the report says where the secrets are, redacted
    report = (out / "aoai-audit.json").read_text()
    assert "weather/policy.xml" in report and "***redacted***" in report


def test_debug_log_redacts_what_the_sdks_log():
    import logging

    from aoai_audit.logs import RedactingFilter

    record = logging.LogRecord("msal", logging.DEBUG, __file__, 1,
                               "POST body: client_id=cid&client_secret=%s&scope=x; response %s", (
                                   "s3cr3t-value", '{"access_token": "eyJ0eXAiOi.tokenpart.sig", "expires_in": 3600}'), None)
    RedactingFilter().filter(record)
    assert "s3cr3t-value" not in record.getMessage() and "tokenpart" not in record.getMessage()
