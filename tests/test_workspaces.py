"""APIM workspaces read in full from an APIOps extract: one service, each workspace's entities marked with it."""

from __future__ import annotations

import shutil

from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.resolve.backends import api_accounts
from aoai_audit.sources.detect import load_paths
from conftest import FIXTURES, audit, keyed

EXTRACT = FIXTURES / "workspaces_apiops" / "apim-shared"


def test_a_root_with_workspaces_and_a_service_policy_is_one_service():
    estate = load_paths([str(EXTRACT)])
    assert [s.kind for s in estate.sources] == ["apiops"] and not estate.gaps
    (svc,) = estate.services
    assert svc.name == "apim-shared" and svc.global_policy is not None
    assert [w.name for w in svc.workspaces] == ["team-a", "team-b"]
    assert all(w.policy is not None for w in svc.workspaces)
    assert sorted((a.name, a.workspace) for a in svc.apis) == [("chat", "team-a"), ("chat-b", "team-b")]
    assert sorted((b.name, b.workspace, b.url) for b in svc.backends) == [
        ("aoai-team", "team-a", "https://aoai-team-a.openai.azure.com/openai"),
        ("aoai-team", "team-b", "https://aoai-team-b.openai.azure.com/openai"),
    ]
    assert [(n.name, n.workspace, n.value) for n in svc.named_values] == [("team-name", "team-a", "team-a")]
    assert {(lg.name, lg.workspace) for lg in svc.loggers} == {("appinsights", None), ("ws-appinsights", "team-a")}
    assert {(d.name, d.api, d.workspace) for d in svc.diagnostics} == {
        ("applicationinsights", None, None), ("applicationinsights", None, "team-a")}
    (frag,) = svc.fragments
    assert (frag.name, frag.workspace) == ("route", "team-a")
    (product,) = svc.products
    assert (product.name, product.workspace, product.apis) == ("team-a-chat", "team-a", ("chat",))


def test_the_extract_found_while_walking_a_repository_is_one_service_too(tmp_path):
    shutil.copytree(EXTRACT, tmp_path / "infra" / "apim-shared")
    (tmp_path / "infra" / "workspaces" / "dev").mkdir(parents=True)  # a Terraform-style folder, not APIOps
    (tmp_path / "infra" / "workspaces" / "dev" / "main.tf.json").write_text("{}")
    estate = load_paths([str(tmp_path)])
    assert [s.name for s in estate.services] == ["apim-shared"]
    assert [w.name for w in estate.services[0].workspaces] == ["team-a", "team-b"]


def test_a_workspace_api_reaches_its_own_workspaces_backend():
    """Both workspaces name their backend `aoai-team`: each API's calls go to its own workspace's account, and
    an API whose only LLM sign is that backend is still an LLM API."""
    ctx = build_context(load_paths([str(EXTRACT)]), Settings())
    by_api = {v.api.name: v for v in ctx.apis}
    assert by_api["chat"].verdict.is_llm
    assert any("aoai-team-a.openai.azure.com" in r for r in by_api["chat"].verdict.reasons)
    assert api_accounts(by_api["chat"], ()) == {"aoai-team-a"}
    assert api_accounts(by_api["chat-b"], ()) == {"aoai-team-b"}


def test_a_workspace_policy_dropping_base_loses_the_global_metric(registry):
    result = audit([EXTRACT], registry)
    assert keyed(result, "TM007") == {("TM007", "service/apim-shared/workspaces/team-b")}
    assert keyed(result, "TM001") == {("TM001", "service/apim-shared/workspaces/team-b/apis/chat-b")}
    assert not keyed(result, "TM008")  # the global metric goes to the service's App Insights diagnostic


def test_a_workspace_diagnostic_is_not_the_services(registry, tmp_path):
    """Only the workspace sends metrics to Application Insights: a service-level API is not covered by it."""
    root = tmp_path / "apim-shared"
    shutil.copytree(EXTRACT, root)
    shutil.rmtree(root / "diagnostics")
    shutil.copytree(root / "workspaces" / "team-b" / "apis" / "chat-b", root / "apis" / "chat-svc")
    result = audit([root], registry)
    (tm008,) = [f for f in result.findings if f.rule_id == "TM008"]
    assert "chat-svc" in tm008.message and "(chat, " not in tm008.message
