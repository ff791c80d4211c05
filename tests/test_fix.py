"""`aoai-audit fix` on real estates: the patch applies with `git apply`, the re-audit closes what it names and adds
nothing, untouched lines stay byte-identical, the fixed files re-read to the same tree plus the inserted
statements, and a second run changes nothing."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main as cli
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.fix.prove import identities
from aoai_audit.fix.run import run_fix
from aoai_audit.fix.udiff import file_patch, secret_lines
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.sources.apiops_layout import looks_like_apiops
from aoai_audit.sources.detect import load_paths
from conftest import CORPUS, EXAMPLE, FIXTURES

GIT = shutil.which("git")
INSERTED = {"base", "llm-emit-token-metric", "dimension", "include-fragment", "set-header", "value"}


def _apiops_estates() -> list[Path]:
    found = []
    for root in (FIXTURES, CORPUS / "apiops"):
        for dirpath, dirnames, _files in os.walk(root):
            if looks_like_apiops(dirpath):
                found.append(Path(dirpath))
                dirnames[:] = []
    return sorted(set(found))  # the corpus lies under FIXTURES too: each estate once


ESTATES = [EXAMPLE, *_apiops_estates()]


def _repo(tmp_path: Path, estate: Path) -> Path:
    """The estate committed in a fresh git repository of its own (what a user's checkout looks like)."""
    repo = tmp_path / "repo"
    shutil.copytree(estate, repo / estate.name, symlinks=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "estate"]):
        subprocess.run([GIT, *args], cwd=repo, check=True, env=env, capture_output=True)
    return repo


def _fix(repo: Path, *args: str, monkeypatch) -> tuple[int, bytes, str]:
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["fix", *args], catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def _tree(text: str) -> list[tuple[int, str, tuple, str]]:
    doc = read_policy(text, scope="api").document
    assert doc is not None, "a fixed file must still parse"
    out = []

    def visit(node, depth):
        tag = "llm-emit-token-metric" if node.tag == "azure-openai-emit-token-metric" else node.tag
        out.append((depth, tag, node.attrs, node.text))
        for c in node.children:
            visit(c, depth + 1)

    for root in list(doc.sections.values()) + list(doc.body):
        visit(root, 0)
    return out


def _is_subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


@pytest.mark.skipif(GIT is None, reason="needs git")
@pytest.mark.parametrize("estate", ESTATES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_fix_on_estate(estate: Path, tmp_path: Path, monkeypatch, registry) -> None:
    repo = _repo(tmp_path, estate)
    before = run_audit(load_paths([str(repo / estate.name)]), registry, Settings())
    code, patch, err = _fix(repo, estate.name, monkeypatch=monkeypatch)
    assert "Traceback" not in err
    plan = run_fix([estate.name], registry, Settings())
    if not plan.changed:
        assert code == 0 and patch == b"" and "no change" in err
        return
    assert code == 1 and patch.startswith(b"diff --git a/")
    (tmp_path / "fix.patch").write_bytes(patch)
    check = subprocess.run([GIT, "apply", "--check", str(tmp_path / "fix.patch")], cwd=repo, capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    originals = {p: (repo / p).read_bytes() for p in plan.changed}

    code, _out, err = _fix(repo, estate.name, "--write", monkeypatch=monkeypatch)
    assert code == 0, err
    after = run_audit(load_paths([str(repo / estate.name)]), registry, Settings())
    old_ids, new_ids = identities(before), identities(after)
    assert not new_ids - old_ids, f"new findings: {sorted(new_ids - old_ids)}"
    for applied in plan.applied:
        assert not set(applied.repair.closes) & new_ids, f"{applied.repair.rule_id} did not close what it names"
    assert len(new_ids) < len(old_ids)

    for path, old_bytes in originals.items():
        new_bytes = (repo / path).read_bytes()
        old, new = old_bytes.decode("utf-8"), new_bytes.decode("utf-8")
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
        for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag in ("replace", "delete"):  # only a renamed tag or a removed duplicate dimension
                assert all("azure-openai-emit-token-metric" in x or "<dimension" in x for x in a[i1:i2]), a[i1:i2]
        if "\r\n" in old:
            assert new.count("\n") == new.count("\r\n"), "a CRLF file stays CRLF"
        old_tree, new_tree = _tree(old), _tree(new)
        assert _is_subsequence(old_tree, new_tree)
        assert {t for _d, t, _a, _x in new_tree} - {t for _d, t, _a, _x in old_tree} <= INSERTED

    subprocess.run([GIT, "checkout", "-q", "--", "."], cwd=repo, check=True)
    applied = subprocess.run([GIT, "apply", str(tmp_path / "fix.patch")], cwd=repo, capture_output=True)
    assert applied.returncode == 0
    for path in originals:  # the patch and --write make the same files (no secret held back in these estates)
        assert (repo / path).read_bytes() == plan.fixed[path].encode("utf-8") or "withheld" in err

    code, again, err = _fix(repo, estate.name, monkeypatch=monkeypatch)
    assert (code, again) == (0, b""), err
    assert "no change" in err


def test_example_repairs(registry) -> None:
    """The bundled example: restore <base /> in Embeddings_Create (closing its TM001, HD001 and TM007), rename the
    legacy metric, add the estate's own metric to embeddings-search (its fragment would add TM003/HD003)."""
    cwd = os.getcwd()
    os.chdir(EXAMPLE.parents[2])
    try:
        plan = run_fix([str(EXAMPLE.relative_to(EXAMPLE.parents[2]))], registry, Settings())
    finally:
        os.chdir(cwd)
    done = {(a.repair.rule_id, a.repair.target.rsplit("/", 1)[-1]) for a in plan.applied}
    assert done == {("TM007", "Embeddings_Create"), ("TM004", "assistants-legacy"), ("TM001", "embeddings-search")}
    closed = {(r, res.rsplit("/", 1)[-1]) for r, res, *_ in plan.before - plan.after}
    assert {("TM001", "Embeddings_Create"), ("HD001", "Embeddings_Create"), ("TM007", "Embeddings_Create"),
            ("TM004", "assistants-legacy"), ("TM001", "embeddings-search")} <= closed
    assert not plan.after - plan.before
    metric = next(a for a in plan.applied if a.repair.rule_id == "TM001")
    assert "namespace 'llm-usage'" in metric.option.summary
    fixed = next(t for p, t in plan.fixed.items() if p.endswith("embeddings-search/policy.xml"))
    assert '\t\t<llm-emit-token-metric namespace="llm-usage">\n\t\t\t<dimension name="Subscription ID" />' in fixed


def test_secret_never_in_patch_context() -> None:
    """The example's embeddings-search policy holds a literal api-key two lines above the insertion: the patch
    shortens its context rather than show it, and still applies."""
    old = (EXAMPLE / "apis" / "embeddings-search" / "policy.xml").read_text()
    secret = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99"
    lines = old.splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if "rate-limit-by-key" in x)
    new = "".join([*lines[:at + 1], "\t\t<x />\n", *lines[at + 1:]])
    patch = file_patch("p.xml", old, new, secret_lines(old))
    assert not patch.withheld and secret not in patch.text and "+\t\t<x />" in patch.text
    right_after = "".join([*lines[:at - 1], "\t\t<x />\n", *lines[at - 1:]])  # directly below the secret line
    assert secret not in file_patch("p.xml", old, right_after, secret_lines(old)).text


def _write(root: Path, rel: str, text: str, newline: str = "\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode())


def _logging(apim: Path) -> None:
    """An Application Insights logger and diagnostic with metrics on, so a restored metric goes somewhere (TM008)."""
    _write(apim, "loggers/appinsights/loggerInformation.json", '{"properties": {"loggerType": "applicationInsights", '
           '"resourceId": "/subscriptions/0/resourceGroups/rg/providers/microsoft.insights/components/appi"}}')
    _write(apim, "diagnostics/applicationinsights/diagnosticInformation.json",
           '{"properties": {"loggerId": "/loggers/appinsights", "metrics": true}}')


CHAT_API = '{"properties": {"displayName": "chat", "path": "chat", "serviceUrl": "https://x.openai.azure.com/openai"}}'


def _estate(root: Path, newline: str = "\n", op_inbound: str = "<inbound>\n  <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n </inbound>") -> Path:
    apim = root / "apim"
    _logging(apim)
    _write(apim, "apis/chat/apiInformation.json", CHAT_API)
    _write(apim, "apis/chat/policy.xml", (
        "<policies>\n <inbound>\n  <base />\n  <llm-emit-token-metric namespace=\"ns\">\n"
        "   <dimension name=\"Subscription ID\" />\n   <dimension name=\"API ID\" />\n  </llm-emit-token-metric>\n"
        " </inbound>\n <backend>\n  <base />\n </backend>\n <outbound>\n  <base />\n </outbound>\n</policies>\n"),
        newline)
    _write(apim, "apis/chat/operations/op/policy.xml", (
        f"<policies>\n <!-- keep me -->\n {op_inbound}\n <backend>\n  <base />\n </backend>\n</policies>"), newline)
    return apim


def test_crlf_and_indentation_kept(tmp_path: Path, registry) -> None:
    apim = _estate(tmp_path, "\r\n")
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM007"])
    (_path, (old, new)), = plan.changed.items()
    assert new == old.replace(" <inbound>\r\n", " <inbound>\r\n  <base />\r\n")
    assert not new.endswith("\n")  # the last line had no newline and still has none


def test_inline_and_self_closing_inbound(tmp_path: Path, registry) -> None:
    apim = _estate(tmp_path, op_inbound="<inbound><set-variable name=\"v\" value=\"1\" /></inbound>")
    (_p, (_old, new)), = run_fix([str(apim)], registry, Settings(), rules=["TM007"]).changed.items()
    assert "<inbound><base /><set-variable" in new


def test_duplicate_dimension_removed_only_when_exact(tmp_path: Path, registry) -> None:
    apim = _estate(tmp_path, op_inbound="<inbound>\n  <base />\n </inbound>")
    dims = "".join(f'   <dimension name="D{i}" value="@(context.Subscription.Id)" />\n' for i in range(3))
    text = (apim / "apis/chat/policy.xml").read_text().replace(
        '   <dimension name="API ID" />\n', '   <dimension name="API ID" />\n' + dims + '   <dimension  name="API ID"/>\n')
    (apim / "apis/chat/policy.xml").write_text(text)
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM006"])
    (_p, (old, new)), = plan.changed.items()
    assert new == old.replace('   <dimension  name="API ID"/>\n', "")
    (apim / "apis/chat/policy.xml").write_text(text.replace('<dimension  name="API ID"/>', '<dimension name="D9" />'))
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM006"])
    assert not plan.changed and any(d.rule_id == "TM006" for d in plan.declined)


def test_owned_workspace_not_metered(tmp_path: Path, registry) -> None:
    """No metric where the estate has none to copy: the service does not attribute at the gateway."""
    apim = tmp_path / "apim"
    _write(apim, "apis/chat/apiInformation.json", CHAT_API)
    _write(apim, "apis/chat/policy.xml", "<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n</policies>\n")
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    assert not plan.changed
    assert any(d.rule_id == "TM001" and "does not attribute at the gateway" in d.reason for d in plan.declined)


def test_bad_path_is_one_line(tmp_path: Path, monkeypatch) -> None:
    code, out, err = _fix(tmp_path, "missing-dir", monkeypatch=monkeypatch)
    assert code == 2 and out == b"" and "missing-dir" in err and "Traceback" not in err


def test_action_fix_script_outputs(tmp_path: Path) -> None:
    """The action's fix step: the patch file, `changed`, the PR body, and the files `pr` mode writes."""
    repo = _repo(tmp_path, EXAMPLE)
    out = tmp_path / "outputs"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "GITHUB_OUTPUT": str(out), "AOAI_AUDIT_PATHS": EXAMPLE.name, "AOAI_AUDIT_FIX": "pr",
           "AOAI_AUDIT_OUTPUT_DIR": str(tmp_path / "res"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(root / "scripts/ci/action-fix.sh")], cwd=repo, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "changed=true" in text and "apis/embeddings-search/policy.xml" in text
    assert "closes TM004" in (tmp_path / "res" / "aoai-audit-fix.md").read_text()
    status = subprocess.run([GIT, "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert status.count(" M ") == 3
