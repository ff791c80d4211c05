"""The pre-commit hooks say "nothing to audit" and let the commit through when the files they are given hold no
API Management artefact (issue 24, item 9); an artefact that cannot be read still fails closed."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from aoai_audit.cli import main
from conftest import ROOT


def _hook_args(hook_id: str) -> list[str]:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    return hooks[hook_id]["entry"].split()[1:]  # after the `aoai-audit` executable


def test_whole_repository_hook_without_an_estate_passes(tmp_path, monkeypatch):
    (tmp_path / "package.json").write_text('{"name": "web", "version": "1.0.0"}')
    (tmp_path / "pom.xml").write_text("<project><modelVersion>4.0.0</modelVersion></project>")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, _hook_args("aoai-audit"))
    assert result.exit_code == 0, result.output
    assert "nothing to audit" in result.output and "nothing could be audited" not in result.output


def test_changed_files_hook_without_a_policy_passes(tmp_path, monkeypatch):
    (tmp_path / "pom.xml").write_text("<project><modelVersion>4.0.0</modelVersion></project>")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*_hook_args("aoai-audit-files"), "pom.xml"])
    assert result.exit_code == 0 and "nothing to audit" in result.output, result.output


def test_hooks_still_fail_closed_on_a_broken_policy(tmp_path, monkeypatch):
    (tmp_path / "chat.policy.xml").write_text("<policies><inbound>")
    (tmp_path / "package.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*_hook_args("aoai-audit-files"), "chat.policy.xml", "package.json"])
    assert result.exit_code == 2 and "nothing to audit" not in result.output, result.output
    result = CliRunner().invoke(main, _hook_args("aoai-audit"))
    assert result.exit_code == 2, result.output
