"""Effective-policy resolution at its edges: revisions' products, the expansion bound, `<base/>` placement (issue 29)."""

from __future__ import annotations

import pytest

from aoai_audit.estate import AiAccount, Api, ApimService, Backend, Fragment, Operation, Product
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.backends import _account_for, _backend_accounts, _by_url, _named, api_accounts
from aoai_audit.resolve.effective import (
    MAX_EXPANDED_NODES,
    FragmentResolver,
    effective_policies,
    product_contexts,
)
from conftest import audit


def names(contexts) -> list[str | None]:
    return [p.name if p is not None else None for p in contexts]


SERVICE = ApimService("apim", products=(
    Product("gold", apis=("chat", "chat")),
    Product("rev-only", apis=("chat;rev=2",)),
    Product("both", apis=("chat", "chat;rev=2")),
    Product("other", apis=("search",)),
))


def test_a_revision_belongs_to_the_products_of_its_api_and_its_own_once_each():
    assert names(product_contexts(SERVICE, Api("chat;rev=2", subscription_required=True))) == ["gold", "both", "rev-only"]


def test_the_current_revision_is_not_in_a_product_that_lists_only_another_revision():
    assert names(product_contexts(SERVICE, Api("chat", subscription_required=True))) == ["gold", "both"]


@pytest.mark.parametrize(("required", "expected"), [(True, ["other"]), (None, ["other"]), (False, ["other", None])])
def test_no_product_is_a_way_in_only_when_a_subscription_is_not_required(required, expected):
    assert names(product_contexts(SERVICE, Api("search", subscription_required=required))) == expected


def test_an_api_in_no_product_is_called_without_one():
    assert names(product_contexts(SERVICE, Api("lonely", subscription_required=True))) == [None]


def _fragment(name: str, elements: int) -> Fragment:
    body = "<set-variable name='x' value='1' />" * elements
    return Fragment(name, read_policy(f"<fragment>{body}</fragment>", scope="fragment", label=name))


def _include(name: str):
    policy = read_policy(f'<policies><inbound><include-fragment fragment-id="{name}" /></inbound></policies>',
                         scope="api")
    return policy.document.section("inbound").children


def test_exactly_the_bound_is_expanded_and_one_more_is_an_issue():
    at = FragmentResolver((_fragment("big", MAX_EXPANDED_NODES),), None)
    expanded = at.expand(_include("big"))
    assert len(expanded) == MAX_EXPANDED_NODES == 50_000 and not at.issues
    over = FragmentResolver((_fragment("big", MAX_EXPANDED_NODES + 1),), None)
    assert over.expand(_include("big")) == ()
    (issue,) = over.issues
    assert "'big'" in issue.message and "50,000" in issue.message


def test_a_missing_fragment_and_a_cycle_are_named():
    missing = FragmentResolver((), None)
    assert missing.expand(_include("nowhere")) == ()
    assert ["'nowhere'" in i.message and "not in the estate" in i.message for i in missing.issues] == [True]
    a = Fragment("a", read_policy('<fragment><include-fragment fragment-id="b" /></fragment>', scope="fragment"))
    b = Fragment("b", read_policy('<fragment><include-fragment fragment-id="a" /></fragment>', scope="fragment"))
    cycle = FragmentResolver((a, b), None)
    cycle.expand(_include("a"))
    assert [i.message for i in cycle.issues] == ["policy fragment include cycle: a → b → a"]


def test_a_workspace_fragment_shadows_the_service_one_only_in_its_workspace():
    service_one = _fragment("f", 1)
    ws_one = Fragment("f", read_policy("<fragment><a /><b /></fragment>", scope="fragment"), workspace="ws")
    assert [n.tag for n in FragmentResolver((ws_one, service_one), "ws").expand(_include("f"))] == ["a", "b"]
    assert [n.tag for n in FragmentResolver((ws_one, service_one), None).expand(_include("f"))] == ["set-variable"]


def _policy(scope: str, inbound: str):
    return read_policy(f"<policies><inbound>{inbound}</inbound></policies>", scope=scope)


@pytest.mark.parametrize(("api_inbound", "tags"), [
    ("<a /><base /><b />", ["a", "g", "b"]),
    ("<base /><a />", ["g", "a"]),
    ("<a />", ["a"]),  # no <base/>: the global statements are lost
    ("<base /><a /><base />", ["g", "a"]),  # a second <base/> does not run the outer scopes twice
])
def test_base_places_the_outer_scope_where_it_stands(api_inbound, tags):
    service = ApimService("apim", global_policy=_policy("global", "<g />"))
    api = Api("chat", policy=_policy("api", api_inbound), operations=(Operation("op"),))
    (ep,), issues = effective_policies(service, api)
    assert [n.tag for n in ep.inbound] == tags and not issues
    assert (ep.operation, ep.product) == ("op", None)


# ---- which accounts a backend reaches -------------------------------------------------------------------------------
RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
EUS = AiAccount(RID + "aoai-eus", "aoai-eus", endpoint="https://custom-eus.openai.azure.com/")
WEU = AiAccount(RID + "aoai-weu", "aoai-weu")


@pytest.mark.parametrize(("ref", "expected"), [
    (RID + "AOAI-EUS/", EUS),                                 # its resource id, any case
    ("https://management.azure.com" + RID + "aoai-weu", WEU),  # an ARM URL of the account
    (RID + "aoai-gone", None),
    ("https://custom-eus.openai.azure.com/openai", EUS),      # its endpoint host
    ("aoai-weu.openai.azure.com", WEU),                       # a host without a scheme, named like the account
    ("@(context.Variables[\"url\"])", None),                  # an expression picks the backend: unknown
    ("", None),
])
def test_account_for(ref, expected):
    assert _account_for(ref, (EUS, WEU)) is expected


@pytest.mark.parametrize(("ref", "name"), [
    (RID + "Elsewhere/", "elsewhere"), ("https://acct.cognitiveservices.azure.com/x", "acct"),
    ("https://acct.services.ai.azure.com", "acct"), ("https://acct.openai.azure.us", "acct"),
    ("https://acct.openai.azure.cn", "acct"), ("https://example.com/openai", ""), ("", ""),
])
def test_named_account_outside_the_estate(ref, name):
    assert _named(ref) == name


def test_a_pool_reaches_its_members_accounts_to_a_bounded_depth():
    service = ApimService("apim", backends=(
        Backend("pool", backend_type="pool", pool_members=("/backends/eus", "weu-by-id", "outside", "loop")),
        Backend("eus", url="https://custom-eus.openai.azure.com/openai"),
        Backend("weu-by-id", resource_id=RID + "aoai-weu"),
        Backend("outside", url="https://other.openai.azure.com/openai"),
        Backend("loop", backend_type="pool", pool_members=("loop",)),
    ))
    assert _backend_accounts(service, "pool", (EUS, WEU)) == {RID.lower() + "aoai-eus", RID.lower() + "aoai-weu",
                                                              "other"}
    assert _backend_accounts(service, "missing", (EUS, WEU)) == set()
    assert _by_url("https://aoai-weu.openai.azure.com", (EUS, WEU)) == {RID.lower() + "aoai-weu"}
    assert _by_url("https://example.com", (EUS, WEU)) == set()


@pytest.mark.parametrize(("url", "llm"), [
    ("https://api.mistral.ai/v1", True), ("https://api.deepseek.com", True), ("https://api.groq.com/openai/v1", True),
    ("https://api.together.xyz/v1", True), ("https://api.example.com/v1", False),
])
def test_openai_compatible_hosts_make_an_llm_api(tmp_path, registry, url, llm):
    path = tmp_path / "chat.policy.xml"
    path.write_text(f'<policies><inbound><base /><set-backend-service base-url="{url}" /></inbound></policies>')
    views = audit(str(path), registry, only=("TM001",)).ctx.apis
    assert [v.verdict.is_llm for v in views] == [llm]
    if llm:
        assert any("OpenAI-compatible" in r for r in views[0].verdict.reasons)


def test_the_accounts_an_api_reaches_by_base_url_or_backend_id_and_the_scope_steps(tmp_path, registry):
    path = tmp_path / "chat.policy.xml"
    path.write_text('<policies><inbound><base /><set-backend-service base-url="https://aoai-weu.openai.azure.com/openai" />'
                    "</inbound></policies>")
    (view,) = audit(str(path), registry, only=("TM001",)).ctx.llm_apis
    assert api_accounts(view, (EUS, WEU)) == frozenset({RID.lower() + "aoai-weu"})
    assert api_accounts(view, ()) == frozenset({"aoai-weu"})
    (ep,) = view.effective
    assert ep.step("api").name == "chat" and ep.step("global").scope == "global" and ep.step("product") is None
