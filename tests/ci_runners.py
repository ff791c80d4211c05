"""Run the CI integrations' own scripts the way each CI service does, on this machine.

Only the expression forms the integrations use are understood; anything else raises, so a template that grows a
construct these runners cannot follow fails its test instead of being half-run.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
AZ_IF = re.compile(r"^\$\{\{\s*if eq\(parameters\.(\w+), (true|false)\)\s*\}\}$")
AZ_MACRO = re.compile(r"\$\(([\w.]+)\)")
SETVAR = re.compile(r"^##vso\[task\.setvariable variable=(\w+)\](.*)$", re.M)


class UnknownExpression(ValueError):
    """An expression the runner does not evaluate: the test must be taught it, not skip it."""


# --------------------------------------------------------------------------------------- GitHub composite action

@dataclass
class ActionRun:
    """What a composite action's run did: each step's outputs, the `uses:` steps it reached, and the job's exit."""

    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    uses: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    exit_code: int = 0
    summary: str = ""


def _gh_eval(expr: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
        return inputs[m[1]]
    if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
        return outputs.get(m[1], {}).get(m[2], "")
    raise UnknownExpression(expr)


def gh_render(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    return EXPR.sub(lambda m: _gh_eval(m[1], inputs, outputs), text)


def gh_condition(cond: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> bool:
    """`if:` conditions built from always(), &&, ||, parentheses and == / != between an expression and a literal."""
    py = re.sub(r"\balways\(\)", "True", cond)
    py = re.sub(r"(inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+)",
                lambda m: repr(_gh_eval(m[1], inputs, outputs)), py)
    py = py.replace("&&", " and ").replace("||", " or ")
    if not re.fullmatch(r"(?:\s|[()]|==|!=|True|and|or)*", re.sub(r"'[^']*'", "", py)):
        raise UnknownExpression(cond)
    return bool(eval(py, {"__builtins__": {}}))  # only literals, comparisons and and/or are left


def _outputs_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_composite(action: dict, action_path: Path, inputs: dict[str, str], workdir: Path, env: dict[str, str]) -> ActionRun:
    """Every `run:` step in order, as GitHub runs `shell: bash` (bash --noprofile --norc -eo pipefail {0},
    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell),
    with GITHUB_ACTION_PATH, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as the runner sets them; `uses:` steps are
    recorded with their rendered `with:` (no network here). A failing step skips the rest but `if: always()`."""
    values = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()} | inputs
    run = ActionRun()
    summary = workdir / "step-summary.md"
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        cond = step.get("if", "success()")
        if cond == "success()":
            if failed:
                continue
        elif not gh_condition(cond, values, run.outputs):
            continue
        if "uses" in step:
            run.uses.append((step["uses"], {k: gh_render(str(v), values, run.outputs)
                                            for k, v in step.get("with", {}).items()}))
            continue
        out_file = workdir / f"output-{index}"
        script = workdir / f"step-{index}.sh"
        script.write_text(gh_render(step["run"], values, run.outputs))
        step_env = {**env, "GITHUB_ACTION_PATH": str(action_path), "GITHUB_OUTPUT": str(out_file),
                    "GITHUB_STEP_SUMMARY": str(summary),
                    **{k: gh_render(str(v), values, run.outputs) for k, v in step.get("env", {}).items()}}
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workdir,
                              env=step_env, capture_output=True, text=True)
        run.outputs[step.get("id", f"step-{index}")] = _outputs_file(out_file)
        if proc.returncode:
            failed = True
            run.exit_code = proc.returncode
    run.summary = summary.read_text() if summary.exists() else ""
    return run


def composite_as_workflow(action: dict) -> dict:
    """actionlint lints workflows, not action metadata: the composite's steps become a reusable workflow's job
    (same `inputs` and `steps` contexts), so expressions, step ids, the pinned actions' inputs and the shell
    scripts (shellcheck) are all checked."""
    inputs = {k: {"type": "string", "default": str(v.get("default", ""))} for k, v in action["inputs"].items()}
    return {"name": "action", "on": {"workflow_call": {"inputs": inputs}},
            "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}}}


def readme_workflow(snippet: str) -> dict:
    steps = yaml.safe_load(snippet)
    for step in steps["steps"]:
        if step.get("uses", "").startswith("aoai-audit/aoai-audit@"):
            step["uses"] = "./"  # the action in this checkout: actionlint checks the snippet's inputs against it
    return {"name": "readme", "on": {"pull_request": None}, "permissions": steps["permissions"],
            "jobs": {"audit": {"runs-on": "ubuntu-latest", "steps": steps["steps"]}}}


# ---------------------------------------------------------------------------------------- Azure Pipelines template

def az_expand(node, params: dict[str, object]):
    """Template expansion for what the stage template uses: `${{ parameters.x }}` in values and
    `${{ if eq(parameters.x, true) }}` list items (conditional insertion); other `${{ }}` forms raise."""
    if isinstance(node, str):
        def value(m: re.Match) -> str:
            if not (p := re.fullmatch(r"parameters\.(\w+)", m[1])):
                raise UnknownExpression(m[0])
            v = params[p[1]]
            return str(v).lower() if isinstance(v, bool) else str(v)
        return EXPR.sub(value, node)
    if isinstance(node, dict):
        for key in node:
            if "${{" in str(key):
                raise UnknownExpression(key)
        return {k: az_expand(v, params) for k, v in node.items()}
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and (m := AZ_IF.match(next(iter(item)))):
                if bool(params[m[1]]) == (m[2] == "true"):
                    out.extend(az_expand(next(iter(item.values())), params))
                continue
            out.append(az_expand(item, params))
        return out
    return node


def az_params(template: dict, given: dict[str, object]) -> dict[str, object]:
    """Defaults, then the given values; a parameter without a default must be given (as Azure Pipelines requires)."""
    params = {}
    for p in template["parameters"]:
        if p["name"] in given:
            params[p["name"]] = given[p["name"]]
        elif "default" in p:
            params[p["name"]] = p["default"]
        else:
            raise KeyError(f"parameter {p['name']} has no default and was not given")
    return params


def az_run_scripts(steps: list[dict], workdir: Path, env: dict[str, str], variables: dict[str, str],
                   skip: set[str]) -> tuple[int, dict[str, str]]:
    """`script:` steps as the agent runs them on Linux (bash --noprofile --norc), with `$(var)` macros, step
    `env:`, variables set by `##vso[task.setvariable]` exposed to later steps as upper-cased environment variables,
    and `condition: always()` honoured after a failure. Returns the job's exit and the variables."""
    variables = dict(variables)
    failed, code = False, 0
    for index, step in enumerate(steps):
        if "script" not in step or step.get("displayName") in skip:
            continue
        if failed and step.get("condition") != "always()":
            continue

        def macro(m: re.Match) -> str:
            return variables.get(m[1], m[0])  # an unknown macro stays as written, as on the agent
        script = workdir / f"az-step-{index}.sh"
        script.write_text(AZ_MACRO.sub(macro, step["script"]))
        step_env = {**env, **{k.upper().replace(".", "_"): v for k, v in variables.items()},
                    **{k: AZ_MACRO.sub(macro, str(v)) for k, v in step.get("env", {}).items()}}
        proc = subprocess.run(["bash", "--noprofile", "--norc", str(script)], cwd=workdir, env=step_env,
                              capture_output=True, text=True)
        variables.update(dict(SETVAR.findall(proc.stdout)))
        if proc.returncode:
            failed, code = True, proc.returncode
    return code, variables


# ------------------------------------------------------------------------------------------------- GitLab CI job

def gitlab_run_script(job: dict, workdir: Path, env: dict[str, str], variables: dict[str, str],
                      skip: re.Pattern) -> int:
    """The job's `script:` lines in one shell that stops at the first failing line, as GitLab's runner does;
    lines matching `skip` (the networked install) are left out."""
    lines = [line for line in job["script"] if not skip.search(line)]
    script = workdir / "gitlab-job.sh"
    script.write_text("set -eo pipefail\n" + "\n".join(lines) + "\n")
    job_env = {**env, **{k: str(v) for k, v in job.get("variables", {}).items()}, **variables}
    return subprocess.run(["bash", "--noprofile", "--norc", str(script)], cwd=workdir, env=job_env,
                          capture_output=True, text=True).returncode


def which(name: str, bin_dir: str) -> str | None:
    path = os.path.join(bin_dir, name)
    return path if os.access(path, os.X_OK) else None
