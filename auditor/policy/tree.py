"""The policy tree every check reads: immutable, source-agnostic, each node knowing where it came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

SECTIONS = ("inbound", "backend", "outbound", "on-error")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a policy element lives, so a finding can point at the line or resource to change."""

    path: str | None = None  # file path as given to the tool (relative to the scanned root)
    line: int | None = None
    resource_id: str | None = None  # ARM id or estate path when there is no file
    scope: str = ""  # human label: "global", "product 'gold'", "api 'chat'", "fragment 'x'"

    def label(self) -> str:
        if self.path:
            return f"{self.path}:{self.line}" if self.line else self.path
        return self.resource_id or self.scope or "?"


_NO_ORIGIN = Origin()


@dataclass(frozen=True, slots=True)
class PolicyNode:
    """One XML element of a policy. Expressions stay opaque text; attribute order is kept."""

    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    text: str = ""  # direct text content (e.g. <value>@(...)</value>), already secret-redacted
    children: tuple[PolicyNode, ...] = ()
    line: int | None = None
    source: Origin = _NO_ORIGIN  # the policy this element belongs to, shared by all its elements

    @property
    def origin(self) -> Origin:
        """Where this element is: the policy's file or resource, at this element's line."""
        src = self.source
        return Origin(src.path, self.line, src.resource_id, src.scope)

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return default

    def iter(self) -> Iterator[PolicyNode]:
        """Depth-first, document order, self included."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def find_all(self, *tags: str) -> Iterator[PolicyNode]:
        wanted = set(tags)
        return (n for n in self.iter() if n.tag in wanted)

    def all_text(self) -> str:
        """Attribute values and text of the whole subtree: what string-level checks search."""
        parts: list[str] = []
        for node in self.iter():
            parts.extend(v for _, v in node.attrs)
            if node.text:
                parts.append(node.text)
        return "\n".join(parts)


def with_source(node: PolicyNode, source: Origin, line: int | None = None) -> PolicyNode:
    """The same element and subtree, belonging to another policy: a text parsed once serves every file that
    holds it, while each finding still points at its own file. `line`: a policy embedded in a JSON string,
    whose elements all sit on that line of its file."""
    return PolicyNode(node.tag, node.attrs, node.text, tuple(with_source(c, source, line) for c in node.children),
                      node.line if line is None else line, source)


def walk_with_path(
    nodes: tuple[PolicyNode, ...], path: tuple[PolicyNode, ...] = ()
) -> Iterator[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    """Yield (node, ancestors) in document order; ancestors let checks see enclosing <choose>/<when>."""
    for node in nodes:
        yield node, path
        if node.children:
            yield from walk_with_path(node.children, (*path, node))


@dataclass(frozen=True, slots=True)
class Suppression:
    """An inline `<!-- aoai-audit: ignore RULE reason -->` comment."""

    rule_ids: tuple[str, ...]
    reason: str
    line: int


@dataclass(frozen=True, slots=True)
class SecretHit:
    kind: str  # "api-key header", "SAS token", ...
    line: int | None
    excerpt: str  # already redacted


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A parsed policy (`<policies>` with sections) or fragment (`<fragment>` with a flat body)."""

    root_tag: str  # "policies" or "fragment"
    sections: dict[str, PolicyNode]  # section name -> section element (only sections present)
    body: tuple[PolicyNode, ...] = ()  # fragment statements
    suppressions: tuple[Suppression, ...] = ()
    secrets: tuple[SecretHit, ...] = ()

    def section(self, name: str) -> PolicyNode | None:
        return self.sections.get(name)

    def with_source(self, source: Origin, line: int | None = None) -> PolicyDocument:
        """This document's structure for another policy holding the same text (see `with_source`)."""
        secrets = self.secrets if line is None else tuple(SecretHit(h.kind, line, h.excerpt) for h in self.secrets)
        return PolicyDocument(self.root_tag, {k: with_source(v, source, line) for k, v in self.sections.items()},
                              tuple(with_source(n, source, line) for n in self.body), self.suppressions, secrets)


@dataclass(frozen=True, slots=True)
class ParseError:
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy as found at one scope: its text (redacted), parsed document or the reason it has none."""

    scope: str  # "global", "workspace", "product", "api", "operation", "fragment"
    origin: Origin
    text: str = ""
    document: PolicyDocument | None = None
    error: ParseError | None = None
    format: str = "rawxml"  # as declared by the source: rawxml, xml, xml-link, unknown


def unknown_policy(scope: str, message: str, *, path: str | None = None, line: int | None = None,
                   resource_id: str | None = None, label: str = "") -> Policy:
    """A policy the source declares but cannot know the text of (a deploy-time parameter, a link, a value known
    after apply): AU002 reports it once, and the rules that need its statements say nothing about its API."""
    return Policy(scope, Origin(path, line, resource_id, label or scope), "", None, ParseError(message, line), "unknown")
