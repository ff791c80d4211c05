"""Effective policy: scopes, <base/> placement, missing base, missing sections, fragments, products."""

from __future__ import annotations

import pytest

from aoai_audit.estate import Api, ApimService, Fragment, Operation, Product
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve import effective
from aoai_audit.resolve.effective import effective_policies


def pol(scope, inbound=None, extra=""):
    inner = f"<inbound>{inbound}</inbound>" if inbound is not None else ""
    return read_policy(f"<policies>{inner}{extra}</policies>", scope=scope, label=scope)


def frag(name, body):
    return Fragment(name, read_policy(f"<fragment>{body}</fragment>", scope="fragment", label=name))


def tags(ep, section="inbound"):
    return [n.get("name") or n.tag for n in ep.sections[section]]


def service(global_inbound, api_inbound, op_inbound=None, products=(), fragments=(), sub=True):
    ops = (Operation("op", policy=pol("operation", op_inbound) if op_inbound is not None else None),)
    api = Api("chat", policy=pol("api", api_inbound), operations=ops, subscription_required=sub)
    return ApimService("svc", global_policy=pol("global", global_inbound), apis=(api,),
                       products=tuple(products), fragments=tuple(fragments)), api


V = '<set-variable name="{}" value="1" />'


def test_base_position_is_honoured():
    svc, api = service(V.format("g"), V.format("a1") + "<base />" + V.format("a2"), "<base />" + V.format("o"))
    (ep,), _ = effective_policies(svc, api)
    assert tags(ep) == ["a1", "g", "a2", "o"]


def test_missing_base_drops_outer_scopes():
    svc, api = service(V.format("g"), "<base />" + V.format("a"), V.format("o"))
    (ep,), _ = effective_policies(svc, api)
    assert tags(ep) == ["o"]


def test_missing_section_or_policy_inherits():
    svc, api = service(V.format("g"), None, None)
    (ep,), _ = effective_policies(svc, api)
    assert tags(ep) == ["g"]


def test_inherited_element_appears_once():
    svc, api = service(V.format("g"), "<base />", "<base />")
    (ep,), _ = effective_policies(svc, api)
    assert tags(ep) == ["g"]


def test_fragments_nested_and_inside_choose():
    fragments = [frag("outer", V.format("f1") + '<include-fragment fragment-id="inner" />'), frag("inner", V.format("f2"))]
    svc, api = service("", '<choose><when condition="@(true)"><include-fragment fragment-id="outer" /></when></choose>',
                       fragments=fragments)
    (ep,), issues = effective_policies(svc, api)
    when = ep.sections["inbound"][0].children[0]
    assert [c.get("name") for c in when.children] == ["f1", "f2"] and issues == ()


def test_fragment_cycle_and_missing_fragment_are_issues_not_crashes():
    fragments = [frag("a", '<include-fragment fragment-id="b" />'), frag("b", '<include-fragment fragment-id="a" />')]
    svc, api = service("", '<include-fragment fragment-id="a" /><include-fragment fragment-id="nope" />', fragments=fragments)
    _, issues = effective_policies(svc, api)
    messages = sorted(i.message for i in issues)
    assert any("cycle: a → b → a" in m for m in messages)
    assert any("'nope' is included but not in the estate" in m for m in messages)


def test_api_in_several_products_gets_one_context_each():
    products = [Product("gold", apis=("chat",), policy=pol("product", "<base />" + V.format("gold"))),
                Product("free", apis=("chat",), policy=pol("product", "<base />" + V.format("free")))]
    svc, api = service(V.format("g"), "<base />", products=products)
    eps, _ = effective_policies(svc, api)
    assert {ep.product: tags(ep) for ep in eps} == {"gold": ["g", "gold"], "free": ["g", "free"]}


def test_open_api_adds_a_no_product_context():
    products = [Product("gold", apis=("chat",), policy=pol("product", "<base />" + V.format("gold")))]
    svc, api = service(V.format("g"), "<base />", products=products, sub=False)
    eps, _ = effective_policies(svc, api)
    assert {ep.product: tags(ep) for ep in eps} == {"gold": ["g", "gold"], None: ["g"]}


def test_origins_survive_resolution():
    svc, api = service(V.format("g"), "<base />" + V.format("a"))
    (ep,), _ = effective_policies(svc, api)
    assert [n.origin.scope for n in ep.sections["inbound"]] == ["global", "api"]


def _hostile_estate(fragments, include):
    """An API in two products (one without a policy) plus the no-product context, three operations; the global,
    a product, the API and one operation all include `include`, inside and outside a <choose>."""
    inc = f'<include-fragment fragment-id="{include}" />'
    ops = (Operation("a", policy=pol("operation", "<base />" + inc)), Operation("b", policy=pol("operation", "<base />")),
           Operation("c"))
    api = Api("chat", policy=pol("api", f'<base /><choose><when condition="@(true)">{inc}</when></choose>',
                                 extra="<outbound><base />" + inc + "</outbound>"), operations=ops,
              subscription_required=False)
    products = (Product("gold", apis=("chat",), policy=pol("product", inc + "<base />")), Product("free", apis=("chat",)))
    return ApimService("svc", global_policy=pol("global", inc, extra="<outbound>" + inc + "</outbound>"), apis=(api,),
                       products=products, fragments=tuple(fragments)), api


HOSTILE_FRAGMENTS = {
    "cycle": ([frag("a", V.format("x") + '<include-fragment fragment-id="b" />'),
               frag("b", '<include-fragment fragment-id="a" />' + V.format("y"))], "a", "cycle"),
    "too deep": ([frag(f"f{i}", f'<include-fragment fragment-id="f{i + 1}" />' + V.format(i)) for i in range(40)]
                 + [frag("f40", V.format("end"))], "f0", "levels deep"),
    "bomb": ([frag(f"f{i}", f'<include-fragment fragment-id="f{i + 1}" />' * 4) for i in range(10)]
             + [frag("f10", V.format("leaf"))], "f0", "expands to more than"),
    "missing inside a fragment": ([frag("outer", '<include-fragment fragment-id="nope" />' + V.format("o"))], "outer",
                                  "'nope' is included but not in the estate"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FRAGMENTS))
def test_remembered_resolution_matches_resolving_every_context_afresh(case, monkeypatch):
    """Each API's resolved scopes and node counts are remembered; on hostile fragment nests (cycles,
    depth, size bombs, a missing fragment inside one) that must give the very sections and issues of resolving
    every (product, operation) context from scratch."""
    fragments, include, expected = HOSTILE_FRAGMENTS[case]
    svc, api = _hostile_estate(fragments, include)
    remembered = effective_policies(svc, api)
    monkeypatch.setattr(effective, "REMEMBER", False)
    afresh = effective_policies(svc, api)
    assert len(remembered[0]) == 3 * 3  # (gold, free, no product) × three operations
    assert [(ep.product, ep.operation, ep.sections) for ep in remembered[0]] == \
        [(ep.product, ep.operation, ep.sections) for ep in afresh[0]]
    assert remembered[1] == afresh[1]
    assert any(expected in issue.message for issue in remembered[1])
