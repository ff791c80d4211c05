"""Effective-policy resolution at its edges: revisions' products, the expansion bound, `<base/>` placement (issue 29)."""

from __future__ import annotations

import pytest

from aoai_audit.estate import Api, ApimService, Fragment, Operation, Product
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.effective import (
    MAX_EXPANDED_NODES,
    FragmentResolver,
    effective_policies,
    product_contexts,
)


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
