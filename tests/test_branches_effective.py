"""The expansion bound across scopes and what remembering a resolution must never change (issue 29).

A section may expand to exactly 50,000 elements (MAX_EXPANDED_NODES); what an inner scope inherits through
`<base/>` counts toward it, even after an outer scope already went over it. The resolver remembers sections and
element counts: a remembered resolution must equal a fresh one, with `<base/>` and without. Expected tags are
written here from the `<base/>` rule (docs: https://learn.microsoft.com/azure/api-management/api-management-howto-policies),
never read back from the resolver.
"""

from __future__ import annotations

import pytest
from test_branches_resolve import _fragment

from aoai_audit.estate import Api, ApimService, Fragment, Operation
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve import effective
from aoai_audit.resolve.effective import FragmentResolver, effective_policies, resolve_sections, scope_chain

OVER = "policy fragments expand to more than 50,000 elements here; includes left unexpanded"


def _scoped(scope: str, inbound: str):
    """A policy whose inbound statements start on line 2, one per line (so each origin names its line)."""
    return read_policy(f"<policies><inbound>\n{inbound}\n</inbound></policies>", scope=scope, label=scope,
                       path=f"{scope}.xml")


@pytest.fixture(scope="module")
def big() -> Fragment:
    return _fragment("big", 50_000)


def tags(nodes) -> list[str]:
    return [n.tag for n in nodes]


@pytest.mark.parametrize(("inbound", "first"), [
    ('<include-fragment fragment-id="big" />\n<base />', ("api.xml", 2)),  # the include is the first statement
    ('<base />\n<include-fragment fragment-id="big" />', ("global.xml", 2)),  # what <base/> brings in comes first
])
def test_exactly_the_bound_plus_one_inherited_statement_is_over_it(big, inbound, first):
    service = ApimService("apim", global_policy=_scoped("global", "<g />"), fragments=(big,))
    (ep,), issues = effective_policies(service, Api("chat", policy=_scoped("api", inbound)))
    assert tags(ep.inbound) == ["g"]  # the include is left unexpanded; the inherited statement stays
    assert [i.message for i in issues] == [OVER]
    assert (issues[0].origin.path, issues[0].origin.line) == first  # the section's first statement


def test_exactly_the_bound_with_nothing_inherited_is_expanded(big):
    service = ApimService("apim", fragments=(big,))
    (ep,), issues = effective_policies(service, Api("chat", policy=_scoped("api", '<include-fragment fragment-id="big" />\n<base />')))
    assert len(ep.inbound) == 50_000 and set(tags(ep.inbound)) == {"set-variable"} and issues == ()


def test_a_statement_after_base_counts_toward_the_bound(big):
    """Exactly the bound before `<base/>`, nothing inherited, one statement after it: one element over."""
    service = ApimService("apim", fragments=(big,))
    policy = _scoped("api", '<include-fragment fragment-id="big" />\n<base />\n<a />')
    (ep,), issues = effective_policies(service, Api("chat", policy=policy))
    assert tags(ep.inbound) == ["a"]
    assert [(i.message, i.origin.path, i.origin.line) for i in issues] == [(OVER, "api.xml", 2)]


def test_an_inner_scope_below_a_section_over_the_bound_expands_no_include():
    """The global section alone is one element over: the API adds a statement, the operation an include. The
    operation's section inherits 50,002 elements, so its include stays unexpanded and the excess is one issue."""
    service = ApimService(
        "apim", global_policy=_scoped("global", "<g />" * 50_001),
        fragments=(Fragment("f", read_policy("<fragment><f /></fragment>", scope="fragment", label="f")),))
    api = Api("chat", policy=_scoped("api", "<base />\n<a />"),
              operations=(Operation("op", policy=_scoped("operation", '<base />\n<include-fragment fragment-id="f" />')),))
    (ep,), issues = effective_policies(service, api)
    assert len(ep.inbound) == 50_002
    assert tags(ep.inbound[-2:]) == ["g", "a"] and "f" not in tags(ep.inbound)
    assert [(i.message, i.origin.path, i.origin.line) for i in issues] == [(OVER, "global.xml", 2)]


# ---- remembering: a second resolution through the same resolver, and a fresh one with nothing remembered ---------
FRAGMENTS = (
    Fragment("f", read_policy('<fragment><f1 /><f2><include-fragment fragment-id="h" /></f2></fragment>',
                              scope="fragment", label="f")),
    Fragment("h", read_policy("<fragment><h1 /></fragment>", scope="fragment", label="h")),
)
GLOBAL = ["g", "f1", "f2"]  # <g /> and fragment f, whose f2 holds fragment h


@pytest.mark.parametrize(("api_inbound", "api_tags"), [
    ("<base />", GLOBAL),                                                         # inherits, adds nothing
    ("<a />", ["a"]),                                                             # no <base/>: drops the outer scope
    ('<base />\n<include-fragment fragment-id="h" />', [*GLOBAL, "h1"]),
    ('<include-fragment fragment-id="h" />', ["h1"]),
    ('<a />\n<base />\n<include-fragment fragment-id="f" />\n<b />', ["a", *GLOBAL, "f1", "f2", "b"]),
    ('<base />\n<include-fragment fragment-id="gone" />', GLOBAL),                # a missing fragment: an issue
])
def test_a_remembered_resolution_equals_a_fresh_one(monkeypatch, api_inbound, api_tags):
    service = ApimService("apim", global_policy=_scoped("global", '<g />\n<include-fragment fragment-id="f" />'),
                          fragments=FRAGMENTS)
    api = Api("chat", policy=_scoped("api", api_inbound), operations=(
        Operation("own", policy=_scoped("operation", '<base />\n<o />')),
        Operation("bare", policy=_scoped("operation", "<base />")),
        Operation("none"),
    ))
    chains = [scope_chain(service, api, op, None) for op in api.operations]
    resolver = FragmentResolver(service.fragments, None)
    first = [resolve_sections(chain, resolver) for chain in chains]
    again = [resolve_sections(chain, resolver) for chain in chains]
    monkeypatch.setattr(effective, "REMEMBER", False)
    fresh_resolver = FragmentResolver(service.fragments, None)
    fresh = [resolve_sections(chain, fresh_resolver) for chain in chains]
    assert first == again == fresh
    assert [tags(s["inbound"]) for s in first] == [[*api_tags, "o"], api_tags, api_tags]
    f2 = next(n for n in first[0]["inbound"] if n.tag == "f2") if "f2" in api_tags else None
    assert f2 is None or tags(f2.children) == ["h1"]  # the nested include is expanded in place
    assert set(resolver.issues) == set(fresh_resolver.issues)
    assert {i.message for i in resolver.issues} == (
        {"policy fragment 'gone' is included but not in the estate"} if "gone" in api_inbound else set())
