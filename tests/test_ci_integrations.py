"""The GitHub Action, the pre-commit hooks, the Azure Pipelines template and the GitLab job, run and linted as far
as this machine allows: each one's own scripts executed as its CI service executes them, each file checked
against its service's schema, and the README's snippets checked to name what exists."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from ci_runners import (
    az_expand,
    az_params,
    az_run_scripts,
    composite_as_workflow,
    gitlab_run_script,
    readme_workflow,
    run_composite,
)
from conftest import EXAMPLE, ROOT

BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
README = (ROOT / "README.md").read_text(encoding="utf-8")
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SHA = re.compile(r"[0-9a-f]{40}")


def _tool(name: str) -> str:
    """A test dependency ([test] extra): missing means the environment is broken, not that the check passed."""
    path = shutil.which(name, path=ENV["PATH"])
    assert path, f"{name} is not installed (pip install '.[test]')"
    return path


def _vendored_schema(name: str) -> dict:
    """The schemas check-jsonschema vendors: GitHub's from SchemaStore, Azure Pipelines' service-schema.json from
    microsoft/azure-pipelines-vscode, GitLab's ci.json from gitlab-org/gitlab."""
    pkg = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    return json.loads((pkg / f"{name}.json").read_text(encoding="utf-8"))


def _readme_yaml_blocks() -> list[str]:
    section = README[README.index("### In CI"):README.index("### Config, suppressions")]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def _sample_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "apimartifacts")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


# ------------------------------------------------------------------------------------------------ GitHub Action

def test_action_pins_every_action_by_full_commit_sha_with_its_release():
    """A tag can be moved under a pinned gate; a SHA cannot. The comment says which release the SHA is."""
    lines = [line for line in (ROOT / "action.yml").read_text().splitlines() if re.match(r"\s*-?\s*uses:", line)]
    assert len(lines) == 4, lines
    for line in lines:
        assert re.search(r"uses: [\w-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line
    assert ACTION["inputs"]["python-version"]["default"]


def test_action_script_outputs_every_report_it_writes_and_the_action_exposes_them(tmp_path):
    out_file = tmp_path / "outputs"
    env = {**ENV, "GITHUB_OUTPUT": str(out_file), "AOAI_AUDIT_PATHS": str(EXAMPLE),
           "AOAI_AUDIT_OUTPUT_DIR": str(tmp_path / "out")}
    proc = subprocess.run(["bash", str(ROOT / "scripts/ci/action-scan.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert sorted(Path(v).name for k, v in outputs.items() if k != "exit-code") == written
    exposed = {k: v["value"] for k, v in ACTION["outputs"].items()}
    for key in outputs:
        assert exposed[key] == f"${{{{ steps.scan.outputs.{key} }}}}", key


def test_action_run_steps_as_github_runs_them(tmp_path):
    """Every `run:` step of action.yml in a fresh virtual environment: the install from the project's own pins,
    the audit, the outputs, the artifact and SARIF uploads it would make, and the gate."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    work = _sample_repo(tmp_path)
    env = {**ENV, "PATH": str(venv / "bin") + os.pathsep + ENV["PATH"], "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    run = run_composite(ACTION, ROOT, {"path": "apimartifacts", "args": "--quiet"}, work, env)
    assert run.exit_code == 1  # the example has high findings: the job fails on the gate
    installed = subprocess.run([str(venv / "bin" / "python"), "-c", "import aoai_audit; print(aoai_audit.__file__)"],
                               capture_output=True, text=True, env=env)
    assert str(venv) in installed.stdout, installed  # the install step put the package into this environment
    scan = run.outputs["scan"]
    assert scan["exit-code"] == "1" and run.summary.startswith("## aoai-audit")
    for key in ("sarif", "markdown", "html", "json"):
        assert (work / scan[key]).is_file(), key
    uses = dict(run.uses)
    sarif = uses[next(u for u in uses if u.startswith("github/codeql-action/upload-sarif@"))]
    assert (work / sarif["sarif_file"]).is_file()
    artifact = uses[next(u for u in uses if u.startswith("actions/upload-artifact@"))]
    uploaded = sorted(Path(p).name for p in artifact["path"].split())
    assert uploaded == ["aoai-audit.html", "aoai-audit.json"] and all((work / p).is_file() for p in artifact["path"].split())


def test_action_with_nothing_to_audit_fails_and_uploads_nothing(tmp_path):
    work = _sample_repo(tmp_path)
    skip_install = {**ACTION, "runs": {**ACTION["runs"], "steps": [s for s in ACTION["runs"]["steps"]
                                                                   if s.get("name") != "Install aoai-audit"]}}
    run = run_composite(skip_install, ROOT, {"path": "no-such-folder", "upload-sarif": "true"}, work, ENV)
    assert run.exit_code == 2 and run.outputs["scan"].get("exit-code") == "2"
    uploads = [u for u, _ in run.uses if not u.startswith("actions/setup-python@")]
    assert not uploads  # no report was written: neither upload runs (and none fails the job for a missing file)
    never = run_composite(skip_install, ROOT, {"path": "apimartifacts", "fail-on": "never"}, work, ENV)
    assert never.exit_code == 0 and len(never.uses) == 3


def _lint(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_tool("actionlint"), "-shellcheck", _tool("shellcheck")], cwd=repo, env=ENV,
                          capture_output=True, text=True)


def _lint_repo(tmp_path: Path, workflows: dict[str, dict | str]) -> Path:
    repo = tmp_path / "lint"
    (repo / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)  # actionlint finds the project by its .git
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    for name, wf in workflows.items():
        text = wf if isinstance(wf, str) else yaml.safe_dump(wf, sort_keys=False)
        (repo / ".github" / "workflows" / name).write_text(text)
    return repo


def test_actionlint_passes_the_action_the_readme_snippet_and_the_sharded_workflow(tmp_path):
    snippet = next(b for b in _readme_yaml_blocks() if "aoai-audit/aoai-audit@" in b)
    repo = _lint_repo(tmp_path, {"action.yml": composite_as_workflow(ACTION), "readme.yml": readme_workflow(snippet),
                                 "sharded.yml": (ROOT / "docs/ci/sharded-audit.yml").read_text()})
    proc = _lint(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_snippet_input_the_action_does_not_have(tmp_path):
    """The control for the test above: the same lint fails on an input action.yml does not declare."""
    snippet = next(b for b in _readme_yaml_blocks() if "aoai-audit/aoai-audit@" in b)
    wf = readme_workflow(snippet)
    wf["jobs"]["audit"]["steps"][1]["with"]["fail_on"] = "high"
    proc = _lint(_lint_repo(tmp_path, {"readme.yml": wf}))
    assert proc.returncode == 1 and 'input "fail_on" is not defined' in proc.stdout


def test_action_and_workflows_match_githubs_schemas():
    jsonschema.validate(ACTION, _vendored_schema("github-actions"))
    workflow = yaml.safe_load((ROOT / "docs/ci/sharded-audit.yml").read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub reads it as "on"
    jsonschema.validate(workflow, _vendored_schema("github-workflows"))


def test_ci_pins_cover_every_runtime_dependency_within_its_range():
    pins = {}
    for line in (ROOT / "requirements/ci.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert not line.startswith("-"), f"an option in the constraints file: {line}"  # no machine's index
            req = Requirement(line)
            pins[req.name.lower()] = str(req.specifier).removeprefix("==")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in map(Requirement, project["dependencies"]):
        assert dep.name.lower() in pins, dep.name
        assert dep.specifier.contains(pins[dep.name.lower()]), (dep, pins[dep.name.lower()])


# -------------------------------------------------------------------------------------------------- pre-commit

def _hook(hook_id: str) -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return next(h for h in hooks if h["id"] == hook_id)


def _run_hook(hook: dict, repo: Path, files: list[str]) -> subprocess.CompletedProcess:
    """What pre-commit does: the entry, plus the staged files matching `files` when pass_filenames."""
    argv = shlex.split(hook["entry"])
    if hook.get("pass_filenames", True):
        argv += [f for f in files if re.search(hook["files"], f)]
    return subprocess.run(argv, cwd=repo, env=ENV, capture_output=True, text=True)


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


def test_pre_commit_accepts_the_manifest_and_the_readme_config(tmp_path):
    pre_commit = _tool("pre-commit")
    manifest = subprocess.run([pre_commit, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], env=ENV,
                              capture_output=True, text=True)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(next(b for b in _readme_yaml_blocks() if b.startswith("repos:")))
    proc = subprocess.run([pre_commit, "validate-config", str(config)], env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_resolves_the_readme_rev_and_runs_both_hooks(tmp_path):
    """The README's config in a scratch repository, with this checkout standing in for the GitHub URL: pre-commit
    clones the pinned rev, installs it into its own environment and runs both hooks on the example estate."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"], capture_output=True).returncode:
        pytest.skip("not a git checkout: pre-commit cannot clone the pinned rev from it")
    repo = _sample_repo(tmp_path)
    config = next(b for b in _readme_yaml_blocks() if b.startswith("repos:"))
    assert "repo: https://github.com/aoai-audit/aoai-audit\n" in config
    config = config.replace("https://github.com/aoai-audit/aoai-audit", str(ROOT))
    (repo / ".pre-commit-config.yaml").write_text(config.replace("# - id: aoai-audit-files", "- id: aoai-audit-files"))
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    env = {**ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    proc = subprocess.run([_tool("pre-commit"), "run", "--all-files"], cwd=repo, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr  # the example estate has gaps: the hooks fail
    for hook_id in ("aoai-audit", "aoai-audit-files"):
        assert f"- hook id: {hook_id}\n- exit code: 1" in proc.stdout, hook_id
    assert "TM001" in proc.stdout and "SEC001" in proc.stdout and "Traceback" not in proc.stdout


# -------------------------------------------------------------------------------------- Azure Pipelines template

AZ_TEMPLATE = yaml.safe_load((ROOT / "ci/azure-pipelines/aoai-audit.yml").read_text())
# Not in the public service-schema.json (sprint 261): Microsoft's task reference lists these inputs,
# https://learn.microsoft.com/azure/devops/pipelines/tasks/reference/advanced-security-publish-v1
ADVANCED_SECURITY_INPUTS = {"SarifsInputDirectory", "EnableRecursiveScanning", "Category", "WaitForProcessing",
                            "WaitForProcessingInterval", "WaitForProcessingTimeout"}


def _az_steps(doc: dict) -> list[dict]:
    return doc["stages"][0]["jobs"][0]["steps"]


@pytest.mark.parametrize("advanced_security", [False, True])
def test_azure_template_expands_to_a_pipeline_the_schema_accepts(advanced_security):
    doc = az_expand(AZ_TEMPLATE, az_params(AZ_TEMPLATE, {"ref": "0" * 40, "advancedSecurity": advanced_security}))
    publish = [s for s in _az_steps(doc) if s.get("task") == "AdvancedSecurity-Publish@1"]
    assert len(publish) == int(advanced_security)
    for step in publish:
        assert set(step["inputs"]) <= ADVANCED_SECURITY_INPUTS
        _az_steps(doc).remove(step)
    jsonschema.validate({k: v for k, v in doc.items() if k != "parameters"}, _vendored_schema("azure-pipelines"))
    tasks = {s["task"]: s for s in _az_steps(doc) if "task" in s}
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFormat"] == "JUnit"
    assert tasks["PublishPipelineArtifact@1"]["condition"] == "always()"


def test_azure_template_needs_a_reference_and_the_example_pipeline_is_valid():
    with pytest.raises(KeyError, match="ref"):
        az_params(AZ_TEMPLATE, {})
    jsonschema.validate(yaml.safe_load((ROOT / "docs/ci/azure-pipelines.yml").read_text()),
                        _vendored_schema("azure-pipelines"))


def _az_job(tmp_path: Path, **given) -> tuple[int, Path]:
    doc = az_expand(AZ_TEMPLATE, az_params(AZ_TEMPLATE, {"ref": "0" * 40, **given}))
    job = doc["stages"][0]["jobs"][0]
    staging = tmp_path / "staging"
    variables = {"Build.ArtifactStagingDirectory": str(staging)}
    variables |= {k: v.replace("$(Build.ArtifactStagingDirectory)", str(staging)) for k, v in job["variables"].items()}
    code, _ = az_run_scripts(job["steps"], _sample_repo(tmp_path), ENV, variables,
                             skip={"Install aoai-audit (its own dependency pins)"})  # pip from GitHub: no network
    return code, staging / "aoai-audit"


def test_azure_template_scripts_publish_reports_and_fail_the_stage_on_the_gate(tmp_path):
    code, out = _az_job(tmp_path, path="apimartifacts")
    assert code == 1
    tasks = {s["task"]: s["inputs"] for s in _az_steps(AZ_TEMPLATE) if "task" in s}
    junit = Path(tasks["PublishTestResults@2"]["testResultsFiles"].replace("$(AOAI_AUDIT_OUT)", str(out)))
    assert junit.is_file() and "<failure" in junit.read_text()
    assert {"aoai-audit.html", "aoai-audit.json", "aoai-audit.sarif"} <= {p.name for p in out.iterdir()}
    assert _az_job(tmp_path / "never", path="apimartifacts", failOn="never")[0] == 0
    assert _az_job(tmp_path / "none", path="no-such-folder")[0] == 2


# --------------------------------------------------------------------------------------------------- GitLab CI

GITLAB = yaml.safe_load((ROOT / "ci/gitlab/aoai-audit.gitlab-ci.yml").read_text())
NO_INSTALL = re.compile(r"pip install")


def test_gitlab_job_matches_gitlabs_ci_schema_and_the_readme_include():
    jsonschema.validate(GITLAB, _vendored_schema("gitlab-ci"))
    snippet = yaml.safe_load(next(b for b in _readme_yaml_blocks() if b.startswith("include:")))
    jsonschema.validate(snippet, _vendored_schema("gitlab-ci"))
    assert snippet["include"][0]["remote"].endswith("/ci/gitlab/aoai-audit.gitlab-ci.yml")


def test_gitlab_job_script_writes_the_reports_it_declares_and_fails_on_the_gate(tmp_path):
    repo = _sample_repo(tmp_path)
    code = gitlab_run_script(GITLAB["aoai-audit"], repo, ENV, {"AOAI_AUDIT_REF": "0" * 40}, NO_INSTALL)
    assert code == 1
    artifacts = GITLAB["aoai-audit"]["artifacts"]
    assert artifacts["when"] == "always"
    for path in [*artifacts["paths"], *artifacts["reports"].values()]:
        assert (repo / path).is_file(), path
    quality = json.loads((repo / artifacts["reports"]["codequality"]).read_text())
    assert quality and all(i["check_name"] and i["location"]["path"] for i in quality)
    unset = gitlab_run_script(GITLAB["aoai-audit"], _sample_repo(tmp_path / "unset"), ENV, {}, NO_INSTALL)
    assert unset == 2  # no reference to install: the job stops before anything else


def test_gitlab_code_quality_report_follows_gitlabs_format(tmp_path, registry):
    """https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format: an array of objects with
    description, check_name, fingerprint (unique), severity (info|minor|major|critical|blocker), location.path
    relative to the repository and location.lines.begin."""
    from aoai_audit.report.formats import renderer
    from conftest import audit

    result = audit("fixtures/example/contoso-apim", registry)
    issues = [i for i in json.loads(renderer("gitlab")(result, registry)) if not i["check_name"].startswith("aoai-audit/")]
    assert len(issues) == len(result.findings) and len({i["fingerprint"] for i in issues}) == len(issues)
    failing = {f.fingerprint for f in result.failing()}
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert (issue["severity"] == "critical") == (issue["fingerprint"] in failing)
        path = issue["location"]["path"]
        assert not os.path.isabs(path) and (ROOT / path).exists(), path
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1


# ------------------------------------------------------------------------------------- README pins and releases

def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_readme_snippets_pin_one_commit_that_has_what_they_use():
    """Until a release is tagged every snippet pins one full commit SHA, and that commit holds what the snippet
    names: the Action's inputs, the hook ids, the templates and the pins the templates install with."""
    refs = []
    for text in (README, *(p.read_text() for p in sorted((ROOT / "docs/ci").glob("*.yml")))):
        refs += re.findall(r"aoai-audit/aoai-audit@([^$\s]+)", text) + re.findall(r"^\s*rev: (\S+)", text, re.M)
        refs += re.findall(r"\bref: ([^,}\s]+)", text) + re.findall(r"AOAI_AUDIT_REF: ([^,}\s]+)", text)
        refs += re.findall(r"aoai-audit/aoai-audit/([0-9a-f]{40}|v[\d.]+)/", text)
    assert len(refs) >= 9 and len(set(refs)) == 1, refs
    ref = refs[0]
    assert SHA.fullmatch(ref) or re.fullmatch(r"v\d+\.\d+\.\d+", ref), f"moving reference {ref!r}"
    if _git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout: the pinned commit cannot be looked up")  # an sdist or wheel
    assert _git("cat-file", "-e", f"{ref}^{{commit}}").returncode == 0, f"{ref} is not a commit of this repository"

    def at(path: str) -> str:
        shown = _git("show", f"{ref}:{path}")
        assert shown.returncode == 0, f"{path} is not in {ref}"
        return shown.stdout

    snippet = yaml.safe_load(next(b for b in _readme_yaml_blocks() if "aoai-audit/aoai-audit@" in b))
    used = next(s["with"] for s in snippet["steps"] if "aoai-audit/aoai-audit@" in s["uses"])
    assert set(used) <= set(yaml.safe_load(at("action.yml"))["inputs"])
    hooks = {h["id"] for h in yaml.safe_load(at(".pre-commit-hooks.yaml"))}
    assert {"aoai-audit", "aoai-audit-files"} <= hooks
    for path in ("ci/azure-pipelines/aoai-audit.yml", "ci/gitlab/aoai-audit.gitlab-ci.yml", "requirements/ci.txt"):
        at(path)


def test_changelog_heads_with_the_version_and_says_whether_it_is_released():
    from aoai_audit import __version__

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    head = re.search(r"^## \[(\d+\.\d+\.\d+)\] - (Unreleased|\d{4}-\d{2}-\d{2})$", changelog, re.M)
    assert head and head[1] == __version__, "the newest CHANGELOG heading is not __version__"
    tagged = re.findall(r"aoai-audit/aoai-audit@(v[\d.]+)", README)
    if head[2] == "Unreleased":
        assert not tagged, "the README pins a release tag that the CHANGELOG says does not exist yet"
    else:
        assert tagged == [f"v{__version__}"], "a released version: the README pins its tag"
