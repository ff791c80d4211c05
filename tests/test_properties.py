"""Properties (hypothesis): the rawxml reader round-trips what APIM writes, resolution laws hold, and no
generated policy or estate makes a check raise.

CI runs a bounded number of examples; `AOAI_AUDIT_HYPOTHESIS=long python3 -m pytest tests/test_properties.py`
runs at least 10,000 per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.estate import ALL_KINDS, Api, ApimService, Estate, Fragment, Operation, Product, SourceInfo
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.effective import effective_policies

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("long" if os.environ.get("AOAI_AUDIT_HYPOTHESIS") == "long" else "ci")

# ------------------------------------------------------------------------------- generated policies

IDENT = st.from_regex(r"[a-z][a-zA-Z0-9]{0,7}", fullmatch=True)
# string literals as expressions hold them: raw <, >, &, quotes of the other kind, escaped double quotes
LITERAL = st.text(alphabet="abcXYZ019 -_.:/<>&'=;{}()[]", max_size=12).map(lambda s: '"' + s + '"') | st.just(r'"a\"b"')
TYPE = st.sampled_from(["string", "int", "bool", "JObject", "Dictionary<string, string>"])


@st.composite
def csharp(draw, depth=0):
    """A C# policy expression body: calls with generics, string literals, &&, ||, <, > and nesting."""
    kind = draw(st.integers(0, 4 if depth < 2 else 1))
    if kind == 0:
        return draw(LITERAL)
    if kind == 1:
        target = draw(st.sampled_from(["context.Request.Headers", "context.Variables", "context.Subscription"]))
        generic = draw(st.none() | TYPE)
        args = draw(st.lists(LITERAL, min_size=0, max_size=2))
        return f"{target}.GetValueOrDefault{'<' + generic + '>' if generic else ''}({', '.join(args)})"
    if kind == 2:
        op = draw(st.sampled_from(["&&", "||", "<", ">", "==", "!="]))
        return f"({draw(csharp(depth + 1))} {op} {draw(csharp(depth + 1))})"
    if kind == 3:
        return f"{draw(IDENT)}.{draw(IDENT)}({draw(csharp(depth + 1))})"
    return f"new JObject(new JProperty({draw(LITERAL)}, {draw(csharp(depth + 1))}))"


EXPRESSION = csharp().map(lambda body: "@(" + body + ")")
PLAIN = st.from_regex(r"[A-Za-z0-9 _.:/-]{0,16}", fullmatch=True)
VALUE = EXPRESSION | PLAIN


@st.composite
def statement(draw, depth=0, fragments=()):
    """(rawxml text, expected (tag, attrs, text, children))."""
    choices = ["set-variable", "set-header", "metric", "base-like"] + (["choose"] if depth < 2 else [])
    if fragments:
        choices.append("include")
    kind = draw(st.sampled_from(choices))
    if kind == "set-variable":
        name, value = draw(IDENT), draw(VALUE)
        return f'<set-variable name="{name}" value="{value}" />', ("set-variable", (("name", name), ("value", value)), "", ())
    if kind == "set-header":
        name, value = draw(st.sampled_from(["x-team-id", "x-user", "x-attribution-id"])), draw(VALUE)  # not secret headers
        value_node = ("value", (), value.strip(), ())
        return (f'<set-header name="{name}" exists-action="override"><value>{value}</value></set-header>',
                ("set-header", (("name", name), ("exists-action", "override")), "", (value_node,)))
    if kind == "metric":
        dims = draw(st.lists(st.tuples(st.sampled_from(["Team", "API ID", "User"]), st.none() | EXPRESSION), max_size=3))
        xml = "".join(f'<dimension name="{n}" />' if v is None else f'<dimension name="{n}" value="{v}" />' for n, v in dims)
        kids = tuple(("dimension", (("name", n),) if v is None else (("name", n), ("value", v)), "", ()) for n, v in dims)
        return (f'<llm-emit-token-metric namespace="ns">{xml}</llm-emit-token-metric>',
                ("llm-emit-token-metric", (("namespace", "ns"),), "", kids))
    if kind == "include":
        fid = draw(st.sampled_from(fragments))
        return f'<include-fragment fragment-id="{fid}" />', ("include-fragment", (("fragment-id", fid),), "", ())
    if kind == "choose":
        cond = draw(EXPRESSION)
        inner = draw(st.lists(statement(depth + 1, fragments), max_size=2))
        xml = f'<choose><when condition="{cond}">{"".join(x for x, _ in inner)}</when></choose>'
        return xml, ("choose", (), "", (("when", (("condition", cond),), "", tuple(e for _, e in inner)),))
    return '<rate-limit calls="5" renewal-period="60" />', ("rate-limit", (("calls", "5"), ("renewal-period", "60")), "", ())


def shape(node) -> tuple:
    return (node.tag, node.attrs, node.text.strip(), tuple(shape(c) for c in node.children))


@given(st.lists(statement(), max_size=6))
def test_rawxml_reader_round_trips_what_apim_writes(statements):
    text = "<policies><inbound>" + "".join(x for x, _ in statements) + "</inbound></policies>"
    policy = read_policy(text, scope="api")
    assert policy.error is None, (policy.error, text)
    got = tuple(shape(n) for n in policy.document.section("inbound").children)
    assert got == tuple(e for _, e in statements)


# ------------------------------------------------------------------------------- resolution laws

MARK = '<set-variable name="{}" value="1" />'


def _policy(scope, body):
    return None if body is None else read_policy(f"<policies><inbound>{body}</inbound></policies>", scope=scope, label=scope)


def _names(ep):
    return [n.get("name") for n in ep.inbound if n.tag == "set-variable"]


SCOPE_BODY = st.lists(st.sampled_from(["base", "mark"]), max_size=4)


def _body(parts, scope):
    out, i = [], 0
    for p in parts:
        if p == "base":
            out.append("<base />")
        else:
            out.append(MARK.format(f"{scope}{i}"))
            i += 1
    return "".join(out)


@given(glob=SCOPE_BODY, product=st.none() | SCOPE_BODY, api=st.none() | SCOPE_BODY, op=st.none() | SCOPE_BODY)
def test_inherited_elements_appear_at_most_once_and_only_through_base(glob, product, api, op):
    bodies = {"global": glob, "product": product, "api": api, "operation": op}
    svc = ApimService(
        "svc", global_policy=_policy("global", _body(glob, "g")),
        products=(Product("p", apis=("a",), policy=_policy("product", None if product is None else _body(product, "p"))),),
        apis=(Api("a", policy=_policy("api", None if api is None else _body(api, "a")),
                  operations=(Operation("o", policy=_policy("operation", None if op is None else _body(op, "o"))),)),),
    )
    (ep,), _ = effective_policies(svc, svc.apis[0])
    names = _names(ep)
    assert len(names) == len(set(names))  # nothing twice
    # an outer scope's marks are there only if every inner scope that has a policy includes <base/> (at most once)
    chain = [("operation", "o"), ("api", "a"), ("product", "p"), ("global", "g")]
    reachable = True
    for scope, prefix in chain:
        parts = bodies[scope]
        mine = [n for n in names if n.startswith(prefix)]
        expected = sum(1 for p in (parts or []) if p == "mark") if reachable else 0
        assert len(mine) == expected, (scope, names, bodies)
        if parts is not None and "base" not in parts:
            reachable = False


@given(api=SCOPE_BODY.filter(lambda p: "base" in p))
def test_removing_base_never_adds_inherited_elements(api):
    def effective(parts):
        svc = ApimService("svc", global_policy=_policy("global", MARK.format("g0")),
                          apis=(Api("a", policy=_policy("api", _body(parts, "a"))),))
        (ep,), _ = effective_policies(svc, svc.apis[0])
        return set(_names(ep))

    with_base = effective(api)
    without = effective([p for p in api if p != "base"])
    assert without <= with_base and "g0" not in without


@given(before=st.lists(statement(), max_size=2), fragment=st.lists(statement(), min_size=1, max_size=3),
       after=st.lists(statement(), max_size=2))
def test_fragment_inclusion_equals_pasting_the_fragment(before, fragment, after):
    pre, frag, post = ("".join(x for x, _ in part) for part in (before, fragment, after))

    def resolved(api_body, fragments=()):
        svc = ApimService("svc", apis=(Api("a", policy=_policy("api", api_body)),), fragments=fragments)
        (ep,), _ = effective_policies(svc, svc.apis[0])
        return tuple(shape(n) for n in ep.inbound)

    included = resolved(pre + '<include-fragment fragment-id="f" />' + post,
                        (Fragment("f", read_policy(f"<fragment>{frag}</fragment>", scope="fragment", label="f")),))
    assert included == resolved(pre + frag + post)


# ------------------------------------------------------------------------------- checks never raise


@st.composite
def estate(draw):
    fragments = tuple(
        Fragment(f"f{i}", read_policy("<fragment>" + "".join(x for x, _ in draw(st.lists(statement(), max_size=3)))
                                      + "</fragment>", scope="fragment", label=f"f{i}"))
        for i in range(draw(st.integers(0, 2)))
    )
    names = (*(f.name for f in fragments), "missing")

    def pol(scope):
        body = draw(st.none() | st.lists(statement(fragments=names), max_size=4))
        if body is None:
            return None
        xml = "".join(x for x, _ in body)
        if draw(st.booleans()):
            xml = "<base />" + xml
        return read_policy(f"<policies><inbound>{xml}</inbound><outbound><base /></outbound></policies>", scope=scope,
                           label=scope)

    apis = tuple(
        Api(f"api{i}", service_url=draw(st.sampled_from(["", "https://x.openai.azure.com/openai", "https://example.com"])),
            subscription_required=draw(st.none() | st.booleans()), policy=pol("api"),
            operations=tuple(Operation(f"op{j}", "POST", draw(st.sampled_from(["/chat/completions", "/x"])),
                                       policy=pol("operation")) for j in range(draw(st.integers(0, 2)))))
        for i in range(draw(st.integers(0, 3)))
    )
    products = (Product("p", apis=tuple(a.name for a in apis[:1]), policy=pol("product")),)
    svc = ApimService("svc", global_policy=pol("global"), apis=apis, products=products, fragments=fragments)
    return Estate(sources=(SourceInfo("generated", "hypothesis", ALL_KINDS),), services=(svc,))


@settings(suppress_health_check=list(HealthCheck))
@given(estate())
def test_no_generated_estate_makes_a_check_raise(registry, generated):
    result = run_audit(generated, registry, Settings())
    assert result.crashed == (), result.crashed[0].error
