"""Read APIM policies as the gateway does.

Real policy files are "rawxml": a policy expression (`@(...)` or `@{...}`) may hold raw `"`, `<T>`
generics and `&&` inside an attribute or element text. A strict XML parser rejects those. Each expression
is escaped in place first (`wellformed`), then the result goes to lxml with DTDs, entities and network off,
and the tree is built here with secrets redacted. Expressions stay opaque text: nothing here evaluates C#.
"""

from __future__ import annotations

import html
import re
import sys

from lxml import etree

from .places import COOKIE_HEADERS, cookie_values, expression_literals, split_spelling
from .secrets import (
    COMMENT_PATTERNS,
    KEY_PARENTS,
    NAMED_PLACES,
    PATTERNS,
    REDACTED,
    SECRET_ATTRIBUTES,
    SECRET_PLACES,
    STRONG_NAMES,
    credential_name,
    find_secrets,
    is_literal,
    redact,
    redact_unparsed,
    secret_in_place,
)
from .tree import SECTIONS, Origin, ParseError, Policy, PolicyDocument, PolicyNode, SecretHit, Suppression
from .wellformed import CLOSERS, RawXmlError, scan_code, to_wellformed

MAX_POLICY_CHARS = 4 * 1024 * 1024  # APIM caps a policy far lower; anything bigger is not a policy
MAX_DEPTH = 100
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SUPPRESS = re.compile(
    r"aoai-audit:\s*ignore\s+((?:[A-Za-z]+[0-9]+)(?:\s*,\s*[A-Za-z]+[0-9]+)*)\s*[:\-]?\s*(.*)", re.S
)
_PI = re.compile(r"<\?(?!xml[\s?])")




# --------------------------------------------------------------------------------------------- decoding


def decode(data: bytes | str) -> str:
    """Bytes to text the way editors save policies: BOMs, UTF-16, CRLF. Refuses binary garbage."""
    if isinstance(data, str):
        text = data
    else:
        if data.startswith(b"\xef\xbb\xbf"):
            text = data[3:].decode("utf-8", errors="strict")
        elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            head = data[:4096]
            if b"\x00" in head:
                raise RawXmlError("binary content (NUL bytes): not a policy document", 1)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise RawXmlError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------------------------------- to tree


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        recover=False,
        collect_ids=False,
    )


_PARSER = _parser()


# Attribute pairs, attribute tuples and texts repeat across an estate's policies even where no two documents are
# alike (`name="x-team"`, `value="true"`): each distinct one is kept once. Only already redacted, immutable
# values are shared, so what a node holds is unchanged. Bounded: past the cap, new values are not kept.
_SHARED: dict = {}
_SHARED_MAX = 200_000


def _shared(value):
    hit = _SHARED.get(value)
    if hit is not None:
        return hit
    if len(_SHARED) < _SHARED_MAX:
        _SHARED[value] = value
    return value


_STRONG_IN_COMMENTS = frozenset({p.kind for p in COMMENT_PATTERNS} | {p.kind for p in PATTERNS if not p.weak})


class _Builder:
    def __init__(self, origin: Origin, fixed_line: int | None = None, scan: bool = True, check_expressions: bool = False):
        self.origin = origin
        self.check_expressions = check_expressions  # the fast path did not scan expressions: do it here
        self.scan = scan  # False when the document cannot match any generic secret pattern
        self.fixed_line = fixed_line  # policies embedded in a JSON string all sit on one line of the file
        self.suppressions: list[Suppression] = []
        self.secrets: list[SecretHit] = []
        self.literal_secrets: list[str] = []

    def node(self, el: etree._Element, depth: int, place: str | None = None, parent: str = "",
             strong: bool = True, header: str = "") -> PolicyNode:
        """One element, its credential places redacted. `place` names the credential place the element's
        text fills (a `<value>` of `set-header name="api-key"`), decided by the parent."""
        if depth > MAX_DEPTH:
            raise RawXmlError(f"nesting deeper than {MAX_DEPTH} levels", el.sourceline)
        tag = el.tag
        if "}" in tag:
            tag = etree.QName(el).localname
        tag = sys.intern(tag)
        line = self.fixed_line or el.sourceline
        raw = {(etree.QName(k).localname if "}" in k else k): v for k, v in el.attrib.items()}
        named = raw.get("name", "") if tag in NAMED_PLACES else ""
        child_place = f"`{named}` {tag.removeprefix('set-').replace('-', ' ')}" if named and credential_name(
            named, url=tag == "set-query-parameter") else None
        strong_name = named.strip().lower() in STRONG_NAMES
        attrs = []
        for key, value in raw.items():
            key = sys.intern(key)
            where, strong = None, True
            if key in SECRET_ATTRIBUTES or (tag, key) in SECRET_PLACES:
                where = f"`{key}` attribute on <{tag}>"
            elif key == "value" and child_place:
                where, strong = f"{child_place} value", strong_name
            if where:
                value = self._place(value, strong, f"literal {where}", line)
            attrs.append((key, self._scrub(value, line)))
        texts = [el.text or ""]
        children = []
        for child in el:
            if child.tag is etree.Comment:
                self._comment(child)
            elif isinstance(child.tag, str):
                children.append(self.node(child, depth + 1, child_place, tag, strong_name,
                                          named if tag == "set-header" else ""))
            texts.append(child.tail or "")
        text = "".join(texts).strip()
        if text and tag == "key" and parent in KEY_PARENTS:
            place, strong = f"<{parent}>", True
        if text and place and tag in ("value", "key"):
            text = self._place(text, strong, f"literal {place} {tag}", line, header)
        text = _shared(self._scrub(text, line))
        return PolicyNode(tag, _shared(tuple(_shared(a) for a in attrs)), text, tuple(children), line, self.origin)

    def _place(self, value: str, strong: bool, kind: str, line: int | None, header: str = "") -> str:
        """A credential place's value, its secrets recorded and redacted by place, not shape: a literal whole, the
        literals of an expression (not the names it looks up), the cookie values of a Cookie / Set-Cookie header."""
        if header.strip().lower() in COOKIE_HEADERS:  # `__Host-x=; Max-Age=0` clears a cookie: no secret
            # an expression is read as the template its literals spell, the computed parts as holes
            spelled = "\x00".join(expression_literals(value)) if value.lstrip()[:2] in ("@(", "@{") else value
            secrets = [c for c in cookie_values(header, spelled) if "\x00" not in c and is_literal(c)]
        elif value.lstrip()[:2] in ("@(", "@{"):
            secrets = [s for lit in expression_literals(value) if (s := secret_in_place(lit, strong)) is not None]
        else:
            secrets = [s] if (s := secret_in_place(value, strong)) is not None else []
        for secret in secrets:
            self._secret(kind, secret, line)
            value = value.replace(secret, REDACTED)
        return value

    def _scrub(self, value: str, line: int | None) -> str:
        if self.check_expressions and value[:2] in ("@(", "@{"):
            try:
                scan_code(value, 2, CLOSERS[value[1]])
            except RawXmlError as exc:
                raise RawXmlError(f"{exc} (expression starts here)", line) from None
        if len(value) < 8 or not self.scan:  # no credential shape is shorter
            return value
        hits = find_secrets(value)
        for hit in hits:
            self._secret(hit.kind, hit.secret, line, hit.report)
        return redact(value, [hit.secret for hit in hits]) if hits else value

    def _secret(self, kind: str, secret: str, line: int | None, report: bool = True) -> None:
        """Remember a secret so the document's text is redacted; `report` it (SEC001) when the evidence is strong."""
        self.literal_secrets.append(secret)
        if report:
            self.secrets.append(SecretHit(kind, line, REDACTED))

    def _comment(self, comment: etree._Element) -> None:
        body = comment.text or ""
        if self.scan:  # a key in a comment is in the repository and in every copy of the policy
            for hit in find_secrets(body, COMMENT_PATTERNS, entropy_reports=False):
                # prose quotes payloads and ids: only patterns and `key: value` lines are reported from comments
                report = hit.report and (hit.kind in _STRONG_IN_COMMENTS)
                self._secret(f"{hit.kind} in an XML comment", hit.secret, comment.sourceline, report)
        m = _SUPPRESS.search(body)
        if m:
            rules = tuple(r.strip().upper() for r in m.group(1).split(","))
            self.suppressions.append(Suppression(rules, m.group(2).strip(), comment.sourceline or 0))


def _build(root, origin: Origin, fixed_line: int | None, scan: bool, check_expressions: bool):
    builder = _Builder(origin, fixed_line, scan, check_expressions=check_expressions)
    for sibling in root.itersiblings(preceding=True):
        if sibling.tag is etree.Comment:
            builder._comment(sibling)
    top = builder.node(root, 0)
    for sibling in root.itersiblings():
        if sibling.tag is etree.Comment:
            builder._comment(sibling)
    return builder, top


def parse_document(text: str, origin: Origin, fixed_line: int | None = None) -> tuple[PolicyDocument, str]:
    """Parse policy text; return the document and the redacted text. Raises RawXmlError."""
    if len(text) > MAX_POLICY_CHARS:
        raise RawXmlError(f"policy is {len(text):,} characters, over the {MAX_POLICY_CHARS:,} limit", None)
    decl = _XML_DECL.match(text)
    if decl:
        text = " " * decl.end() + text[decl.end() :] if "\n" not in decl.group(0) else text[decl.end() :]
    if not text.strip():
        raise RawXmlError("empty policy document", 1)
    root = None
    fast = "<!" not in text.replace("<!--", "").replace("<![CDATA[", "")
    if fast:
        # Fast path: well-formed XML (no expressions with raw quotes) reads the same either way.
        try:
            root = etree.fromstring(text, _PARSER)
        except etree.XMLSyntaxError:
            root = None
            fast = False
    try:
        if root is None:
            root = etree.fromstring(to_wellformed(text), _PARSER)
    except etree.XMLSyntaxError as exc:
        msg = exc.msg or str(exc)
        msg = re.sub(r",? line \d+, column \d+$", "", msg)
        raise RawXmlError(msg, exc.lineno) from None
    try:
        builder, top = _build(root, origin, fixed_line, True, fast)
    except RawXmlError:
        if not fast:
            raise
        # Well-formed XML with a different meaning: `condition="@(">")"` parses strictly as condition="@(" and
        # text `")">`. The gateway reads the expression, so read it the rawxml way.
        try:
            root = etree.fromstring(to_wellformed(text), _PARSER)
        except etree.XMLSyntaxError as exc:
            raise RawXmlError(re.sub(r",? line \d+, column \d+$", "", exc.msg or str(exc)), exc.lineno) from None
        builder, top = _build(root, origin, fixed_line, True, False)
    if top.tag == "policies":
        sections = {c.tag: c for c in top.children if c.tag in SECTIONS}
        unknown = [c.tag for c in top.children if c.tag not in SECTIONS]
        if unknown:
            raise RawXmlError(f"unexpected <{unknown[0]}> under <policies>", top.origin.line)
        document = PolicyDocument("policies", sections, (), tuple(builder.suppressions), tuple(builder.secrets))
    elif top.tag == "fragment":
        document = PolicyDocument("fragment", {}, top.children, tuple(builder.suppressions), tuple(builder.secrets))
    else:
        raise RawXmlError(f"root element is <{top.tag}>, expected <policies> or <fragment>", top.origin.line)
    return document, _redact_text(text, builder.literal_secrets)


def _redact_text(text: str, secrets: list[str]) -> str:
    """The document's text with every secret found in its tree replaced. A secret written with character
    references (`&#97;`) does not match its decoded value: any line that still spells one out when decoded
    is blanked whole, so the stored text never holds more than the tree."""
    # every value and comment of the tree was searched; only processing instructions (dropped from the tree)
    # are text the tree never saw
    safe = redact(text, secrets, shapes=_PI.search(text) is not None)
    if secrets and ("<![CDATA[" in safe or "<!--" in safe):  # a value the parser joined across CDATA or a comment
        for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)[:500]:
            pattern = split_spelling(secret)
            if pattern is not None and secret not in safe:
                safe = pattern.sub(REDACTED, safe)
    if "&#" not in safe or not secrets:
        return safe
    lines = safe.split("\n")
    for i, line in enumerate(lines):
        if "&#" in line and any(s in html.unescape(line) for s in secrets if len(s) >= 3):
            lines[i] = REDACTED
    return "\n".join(lines)


# Policy texts repeat across an estate (operation policies, copied fragments): each distinct text is parsed
# once per process. Only the structure is shared; every policy gets its own nodes pointing at its own file.
_PARSED: dict[tuple[str, bool], tuple[PolicyDocument, str]] = {}
_PARSED_MAX = 20_000  # distinct texts kept; past that, new texts are parsed each time


def _parse_once(text: str, origin: Origin, fixed_line: int | None) -> tuple[PolicyDocument, str]:
    key = (text, fixed_line is not None)  # embedded policies: every element on the line of the JSON string
    hit = _PARSED.get(key)
    if hit is not None:
        return hit[0].with_source(origin, fixed_line), hit[1]
    parsed = parse_document(text, origin, fixed_line)
    if len(_PARSED) < _PARSED_MAX:
        _PARSED[key] = parsed
    return parsed


def read_policy(
    data: bytes | str,
    *,
    scope: str,
    path: str | None = None,
    resource_id: str | None = None,
    label: str = "",
    fmt: str = "rawxml",
    embedded_at: int | None = None,
) -> Policy:
    """Read one policy; never raises. A broken policy comes back with `error` set (it becomes AU002).

    `embedded_at`: the policy is a string inside another file (ARM/Terraform JSON) on that line; every
    element then points at that line of `path`, and parse errors too.
    """
    origin = Origin(path, embedded_at, resource_id, label or scope)
    text = ""
    try:
        text = decode(data)
        document, safe_text = _parse_once(text, origin, embedded_at)
        return Policy(scope, origin, safe_text, document, None, fmt)
    except RawXmlError as exc:
        line = embedded_at or exc.line
        message = str(exc) if embedded_at is None or exc.line is None else f"{exc} (line {exc.line} of the policy)"
        return Policy(scope, origin, redact_unparsed(text[:MAX_POLICY_CHARS]), None, ParseError(message, line), fmt)
    except (RecursionError, MemoryError, ValueError) as exc:  # pathological input must not stop the audit
        return Policy(scope, origin, "", None, ParseError(f"unreadable policy: {type(exc).__name__}", None), fmt)
