"""The rawxml reader: reads what the gateway reads, keeps lines, refuses what is unsafe."""

from __future__ import annotations

import pytest

from aoai_audit.policy.rawxml import MAX_DEPTH, read_policy
from aoai_audit.policy.secrets import REDACTED
from aoai_audit.policy.wellformed import to_wellformed


def parse(text, **kw):
    return read_policy(text.encode() if isinstance(text, str) else text, scope="api", path="p.xml", **kw)


def nodes(policy, tag):
    doc = policy.document
    roots = [*doc.sections.values(), *doc.body]
    return [n for r in roots for n in r.iter() if n.tag == tag]


def test_raw_quotes_generics_and_ampersands_in_expressions():
    p = parse(
        '<policies><inbound>\n'
        '<set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("x-team-id", ""))" />\n'
        '<choose><when condition="@(context.Variables.GetValueOrDefault<string>("s","") == "1" && true)">\n'
        '<set-body>@{ var b = context.Request.Body.As<JObject>(); if (1 < 2 && b != null) { return "<x>"; } return ""; }</set-body>\n'
        '</when></choose></inbound></policies>'
    )
    assert p.error is None
    (sv,) = nodes(p, "set-variable")
    assert sv.get("value") == '@(context.Request.Headers.GetValueOrDefault("x-team-id", ""))'
    assert sv.origin.line == 2
    (when,) = nodes(p, "when")
    assert '"s"' in when.get("condition") and "&&" in when.get("condition")
    (body,) = nodes(p, "set-body")
    assert "As<JObject>()" in body.text and 'return "<x>";' in body.text and body.origin.line == 4


def test_xml_escaped_expressions_read_the_same():
    raw = parse('<policies><inbound><set-variable name="a" value="@(x.Get(&quot;k&quot;) &amp;&amp; y)" /></inbound></policies>')
    (sv,) = nodes(raw, "set-variable")
    assert sv.get("value") == '@(x.Get("k") && y)'


def test_well_formed_input_is_unchanged():
    text = '<policies>\n<inbound><base /><set-header name="a" exists-action="override"><value>b</value></set-header></inbound>\n</policies>'
    assert to_wellformed(text) == text


def test_comments_verbatim_strings_char_literals_and_line_comments():
    p = parse(
        "<policies><inbound><!-- a -- b -->\n"
        "<set-variable name=\"v\" value=\"@{\n"
        "  // don't stop at this apostrophe\n"
        "  var s = @\"a \"\"quoted\"\" ) path\"; char c = ')';\n"
        "  return s + c; }\" /></inbound></policies>"
    )
    assert p.error is None, p.error
    (sv,) = nodes(p, "set-variable")
    assert '""quoted""' in sv.get("value") and "')'" in sv.get("value")


def test_broken_policy_gives_line():
    p = parse("<policies>\n<inbound>\n<base />\n</outbound>\n</policies>")
    assert p.document is None and p.error.line == 4


def test_unclosed_expression_gives_line_of_its_start():
    p = parse('<policies>\n<inbound>\n<set-variable name="x" value="@(context.Foo(" />\n</inbound></policies>')
    assert p.error is not None and p.error.line == 3


@pytest.mark.parametrize(
    "payload",
    [
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><policies><inbound>&x;</inbound></policies>',
        '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><policies>&b;</policies>',
        '<!DOCTYPE p SYSTEM "http://127.0.0.1:9/x.dtd"><policies/>',
    ],
)
def test_dtd_and_entities_are_refused(payload):
    p = parse(payload)
    assert p.document is None and "DOCTYPE" in p.error.message


def test_undefined_entity_is_text_not_expansion():
    p = parse("<policies><inbound><set-header name='a'><value>a &x; b</value></set-header></inbound></policies>")
    (value,) = nodes(p, "value")
    assert value.text == "a &x; b"


def test_deep_nesting_is_bounded():
    depth = MAX_DEPTH + 50
    text = "<policies><inbound>" + "<choose><when condition='1'>" * depth + "</when></choose>" * depth + "</inbound></policies>"
    p = parse(text)
    assert p.document is None and ("nest" in p.error.message.lower() or "depth" in p.error.message.lower())


def test_size_limit():
    p = parse("<policies>" + " " * (5 * 1024 * 1024) + "</policies>")
    assert p.document is None and "limit" in p.error.message


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf<policies>\r\n<inbound>\r\n<base />\r\n</inbound>\r\n</policies>",
        "<policies>\n<inbound>\n<base />\n</inbound>\n</policies>".encode("utf-16"),
    ],
)
def test_bom_utf16_crlf(data):
    p = parse(data)
    assert p.error is None
    assert p.document.section("inbound").children[0].origin.line == 3


def test_binary_and_non_utf8_are_errors_not_crashes():
    assert "binary" in parse(b"\x00\x01\x02garbage").error.message
    assert parse(b"<policies>\xff\xfe\xfa</policies>").error is not None


def test_secrets_are_redacted_and_recorded():
    p = parse(
        '<policies><inbound>\n<set-header name="api-key" exists-action="override"><value>0123456789abcdef0123</value></set-header>\n'
        '<set-variable name="c" value="DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0;EndpointSuffix=core.windows.net" />\n'
        '<authentication-basic username="u" password="hunter2hunter2" />\n'
        "</inbound></policies>"
    )
    assert p.error is None
    kinds = sorted(s.kind for s in p.document.secrets)
    assert len(kinds) == 3
    for secret in ("0123456789abcdef0123", "c2VjcmV0c2VjcmV0c2VjcmV0", "hunter2hunter2"):
        assert secret not in p.text
        assert secret not in repr(p.document)
    assert REDACTED in p.text


def test_named_value_and_expression_headers_are_not_secrets():
    p = parse(
        '<policies><inbound><set-header name="api-key" exists-action="override"><value>{{aoai-key}}</value></set-header>'
        '<set-header name="Authorization" exists-action="override"><value>@("Bearer " + (string)context.Variables["t"])</value></set-header>'
        "</inbound></policies>"
    )
    assert p.document.secrets == ()


def test_inline_suppression_comment():
    p = parse("<policies>\n<!-- aoai-audit: ignore TM003, HD003 teams send the header via the SDK -->\n<inbound/></policies>")
    (s,) = p.document.suppressions
    assert s.rule_ids == ("TM003", "HD003") and s.reason.startswith("teams send") and s.line == 2


def test_well_formed_xml_with_a_different_meaning_is_read_as_the_gateway_reads_it():
    """Found by hypothesis: `condition="@(">")"` is well-formed XML meaning condition="@(" plus text `")">`;
    the gateway reads one expression."""
    policy = read_policy('<policies><inbound><choose><when condition="@(">")"></when></choose></inbound></policies>',
                         scope="api")
    assert policy.error is None
    (when,) = policy.document.section("inbound").children[0].children
    assert when.attrs == (("condition", '@(">")'),) and when.children == ()
