"""The GitHub Action's script, the pre-commit hooks and the Azure DevOps example, run as far as this machine allows."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import EXAMPLE, ROOT

BIN = str(Path(sys.executable).parent)


def test_action_is_a_composite_that_runs_the_script():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    runs = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "scripts/ci/action-scan.sh" in runs and (ROOT / "scripts/ci/action-scan.sh").is_file()
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)


def test_action_script_writes_reports_summary_and_gate(tmp_path):
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(outputs), "AOAI_AUDIT_PATHS": str(EXAMPLE), "AOAI_AUDIT_OUTPUT_DIR": str(tmp_path / "out")}
    proc = subprocess.run(["bash", str(ROOT / "scripts/ci/action-scan.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # the example has high findings
    assert summary.read_text().startswith("## aoai-audit")
    sarif = json.loads((tmp_path / "out" / "aoai-audit.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert "exit-code=1" in outputs.read_text()
    env["AOAI_AUDIT_FAIL_ON"] = "never"
    assert subprocess.run(["bash", str(ROOT / "scripts/ci/action-scan.sh")], env=env, capture_output=True).returncode == 0


def _sample_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "apimartifacts")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _hook(hook_id: str) -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return next(h for h in hooks if h["id"] == hook_id)


def _run_hook(hook: dict, repo: Path, files: list[str]) -> subprocess.CompletedProcess:
    """What pre-commit does: the entry, plus the staged files matching `files` when pass_filenames."""
    import re

    argv = shlex.split(hook["entry"])
    if hook.get("pass_filenames", True):
        argv += [f for f in files if re.search(hook["files"], f)]
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    return subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)


def test_pre_commit_whole_estate_hook(tmp_path):
    repo = _sample_repo(tmp_path)
    proc = _run_hook(_hook("aoai-audit"), repo, ["apimartifacts/apis/hr-copilot/policy.xml"])
    assert proc.returncode == 1 and "TM001" in proc.stdout


def test_pre_commit_changed_files_hook(tmp_path):
    repo = _sample_repo(tmp_path)
    hook = _hook("aoai-audit-files")
    good = _run_hook(hook, repo, ["apimartifacts/apis/hr-copilot/policy.xml", "apimartifacts/apis/hr-copilot/apiInformation.json"])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _run_hook(hook, repo, ["apimartifacts/apis/embeddings-search/policy.xml"])
    assert bad.returncode == 1 and "SEC001" in bad.stdout


def test_azure_devops_example_publishes_junit():
    pipeline = yaml.safe_load((ROOT / "docs/ci/azure-pipelines.yml").read_text())
    tasks = {s.get("task"): s for s in pipeline["steps"] if "task" in s}
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFormat"] == "JUnit"
    script = " ".join(s.get("script", "") for s in pipeline["steps"])
    assert "--format junit" in script


def test_readme_examples_pin_an_immutable_reference():
    """A gate that moves with a branch changes under the user: the Action, pre-commit and pipeline examples pin a
    release tag or a commit SHA."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pipeline = (ROOT / "docs/ci/azure-pipelines.yml").read_text(encoding="utf-8")
    refs = re.findall(r"uses: aoai-audit/aoai-audit@(\S+)", readme) + re.findall(r"^\s*rev: (\S+)", readme, re.M)
    refs += re.findall(r"aoai-audit/aoai-audit@([^\"'\s]+)", pipeline)
    assert len(refs) >= 3, refs
    for ref in refs:
        assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", ref), f"moving reference {ref!r}"
