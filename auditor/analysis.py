"""Shared reading of policy statements for the checks: token metrics, dimensions, headers, variables.

Expressions are never evaluated; they are read as text for what they reference (a header, a
variable, the subscription, a JWT claim). Everything here is a pure function of policy nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .policy.tree import PolicyNode, walk_with_path

TOKEN_METRIC_TAGS = ("llm-emit-token-metric", "azure-openai-emit-token-metric")
LEGACY_TOKEN_METRIC = "azure-openai-emit-token-metric"
DEFAULT_NAMESPACE = "API Management"
JWT_VALIDATORS = ("validate-jwt", "validate-azure-ad-token")


def norm_dimension(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


BUILTIN_DIMENSIONS = {
    norm_dimension(n): n
    for n in (
        "API ID",
        "Operation ID",
        "Product ID",
        "User ID",
        "Subscription ID",
        "Location",
        "Gateway ID",
        "Backend ID",
    )
}
CONSUMER_BUILTINS = {norm_dimension(n) for n in ("Product ID", "User ID", "Subscription ID")}

_HEADER_READ = re.compile(
    r"Headers\s*\.\s*(?:GetValueOrDefault|TryGetValue|ContainsKey)\s*(?:<[^<>()]{0,200}>\s*)?\(\s*\"([^\"]+)\"|"
    r"Headers\s*\[\s*\"([^\"]+)\"\s*\]",
    re.I,
)
_VAR_READ = re.compile(
    r"Variables\s*\.\s*(?:GetValueOrDefault|TryGetValue|ContainsKey)\s*(?:<[^<>()]{0,200}>\s*)?\(\s*\"([^\"]+)\"|"
    r"Variables\s*\[\s*\"([^\"]+)\"\s*\]"
)
_DEFAULT_ARG = re.compile(r"GetValueOrDefault\s*(?:<[^<>()]{0,200}>\s*)?\(\s*\"[^\"]+\"\s*,\s*\"([^\"]*)\"")
_COALESCE_DEFAULT = re.compile(r"\?\?\s*\"([^\"]*)\"")
_IDENTITY = (
    (re.compile(r"context\s*\.\s*Subscription\b"), "the APIM subscription"),
    (re.compile(r"context\s*\.\s*User\b"), "the APIM user"),
    (re.compile(r"context\s*\.\s*Product\b"), "the APIM product"),
    (re.compile(r"AsJwt\s*\(|\bJwt\b|\.Claims\b|TryParseJwt", re.I), "a JWT claim"),
)


@dataclass(frozen=True, slots=True)
class ValueSource:
    """What a dimension or header value is made of, read from the expression text."""

    identity: tuple[str, ...] = ()  # "the APIM subscription", "a JWT claim", ...
    headers: tuple[str, ...] = ()  # request headers read (lower-case)
    variables: tuple[str, ...] = ()  # context variables read
    defaults: tuple[str, ...] = ()  # literal fallbacks ("N/A", "unknown", "")
    literal: bool = False  # a constant: names no caller

    @property
    def identifies_consumer(self) -> bool:
        return bool(self.identity or self.headers)


# Remember per-node and per-text work shared by many effective policies (walks of inherited statements, the
# reading of an expression). Off only to prove the reports do not change (benchmarks/unoptimised.py).
REMEMBER = True
_READ: dict[str, ValueSource] = {}
_READ_MAX = 50_000


def read_expression(text: str) -> ValueSource:
    """What an expression reads. The same expression text is read by several checks in every effective policy
    that inherits it: read once (ValueSource is frozen, so one value serves them all)."""
    hit = _READ.get(text) if REMEMBER else None
    if hit is not None:
        return hit
    source = _read_expression(text)
    if REMEMBER:
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[text] = source
    return source


def _read_expression(text: str) -> ValueSource:
    text = text or ""
    identity = tuple(dict.fromkeys(what for rx, what in _IDENTITY if rx.search(text)))
    headers = tuple(dict.fromkeys((a or b).lower() for a, b in _HEADER_READ.findall(text)))
    if "authorization" in headers and "a JWT claim" in identity:
        headers = tuple(h for h in headers if h != "authorization")
    variables = tuple(dict.fromkeys(a or b for a, b in _VAR_READ.findall(text)))
    defaults = tuple(_DEFAULT_ARG.findall(text)) + tuple(_COALESCE_DEFAULT.findall(text))
    literal = not text.strip().startswith("@")
    return ValueSource(identity, headers, variables, defaults, literal)


# ------------------------------------------------------------------------------------- walking


# Every check walks the same effective sections again and again: walk each section tuple once. The cache
# holds the tuple itself beside its walk, so an id is never reused while its entry lives; it is bounded.
class _Walk:
    """A section tuple's walk, with what the checks look up in it found once: where given tags are, where each
    node first is, which statements set variables."""

    __slots__ = ("_first", "_found", "_setters", "nodes", "pairs")

    def __init__(self, nodes: tuple[PolicyNode, ...], pairs: list[tuple[PolicyNode, tuple[PolicyNode, ...]]]):
        self.nodes = nodes
        self.pairs = pairs
        self._found: dict[tuple[str, ...], list[int]] = {}
        self._first: dict[int, int] | None = None
        self._setters: list[int] | None = None

    def tagged(self, tags: tuple[str, ...]) -> list[int]:
        """Positions of the elements with one of `tags`, in document order (found once per set of tags: the
        token metrics of one section are looked up by most checks)."""
        found = self._found.get(tags)
        if found is None:
            found = self._found[tags] = [i for i, (node, _path) in enumerate(self.pairs) if node.tag in tags]
        return found

    def position(self, node: PolicyNode | None) -> int:
        """Where `node` first is in the walk; past the end when it is not in it (or None)."""
        if node is None:
            return len(self.pairs)
        if self._first is None:
            self._first = {}
        found = self._first.get(id(node))
        if found is None:
            found = next((i for i, (n, _path) in enumerate(self.pairs) if n is node), len(self.pairs))
            self._first[id(node)] = found  # the node is held by the walk (or compared by id only: not there)
        return found

    def setters(self) -> list[int]:
        if self._setters is None:
            self._setters = [i for i, (node, _path) in enumerate(self.pairs) if variables_set(node)]
        return self._setters


_WALKS: dict[int, _Walk] = {}
# bounded: the checks ask for one API's sections one after another, so a few thousand walks hold every hit;
# at 20,000 a 10,000-API estate with no two policies alike peaked at 319 MB against 288 MB at 4,000, with the
# same report and no loss of speed (benchmarks/README.md)
_WALKS_MAX = 4_000


def _walk_of(nodes: tuple[PolicyNode, ...]) -> _Walk:
    hit = _WALKS.get(id(nodes))
    if hit is not None and hit.nodes is nodes:
        return hit
    if REMEMBER:
        # the walk of a section is the walks of its statements one after another; the statements of outer
        # scopes are shared by every operation's effective section, so each is walked once and joined
        pairs: list[tuple[PolicyNode, tuple[PolicyNode, ...]]] = []
        for node in nodes:
            pairs.extend(_walked_node(node))
    else:
        pairs = list(walk_with_path(nodes))
    if len(_WALKS) >= _WALKS_MAX:
        _WALKS.clear()
    entry = _WALKS[id(nodes)] = _Walk(nodes, pairs)
    return entry


def _walked(nodes: tuple[PolicyNode, ...]) -> list[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    return _walk_of(nodes).pairs


_NODE_WALKS: dict[int, tuple[PolicyNode, list[tuple[PolicyNode, tuple[PolicyNode, ...]]]]] = {}


def _walked_node(node: PolicyNode) -> list[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    hit = _NODE_WALKS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    walked = list(walk_with_path((node,)))
    if len(_NODE_WALKS) >= _WALKS_MAX:
        _NODE_WALKS.clear()
    _NODE_WALKS[id(node)] = (node, walked)
    return walked


def find(nodes: Iterable[PolicyNode], *tags: str, before: PolicyNode | None = None
         ) -> list[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    """(element, ancestors) of the elements with one of `tags`, in document order; `before`: only those ahead
    of that element's first occurrence (all of them when it is None or not there)."""
    nodes = nodes if isinstance(nodes, tuple) else tuple(nodes)
    if not REMEMBER:
        out = []
        for node, path in walk(nodes):
            if before is not None and node is before:
                break
            if node.tag in tags:
                out.append((node, path))
        return out
    entry = _walk_of(nodes)
    pairs = entry.pairs
    positions = entry.tagged(tags)
    if before is not None:
        stop = entry.position(before)
        return [pairs[i] for i in positions if i < stop]
    return [pairs[i] for i in positions]


_MENTIONS: dict[tuple[int, str], tuple[PolicyNode, bool]] = {}


def may_mention(nodes: Iterable[PolicyNode], word: str) -> bool:
    """False only when no attribute value or text of these statements holds `word` (lower-case, compared
    case-insensitively): a check looking for it can skip the walk. Each statement is read once per word."""
    if not REMEMBER:
        return True
    for node in nodes:
        key = (id(node), word)
        hit = _MENTIONS.get(key)
        if hit is None or hit[0] is not node:
            if len(_MENTIONS) >= _WALKS_MAX:
                _MENTIONS.clear()
            hit = _MENTIONS[key] = (node, word in node.all_text().lower())
        if hit[1]:
            return True
    return False


def _setters_before(nodes: tuple[PolicyNode, ...], stop: PolicyNode | None) -> Iterator[PolicyNode]:
    """Statements that set a variable, in document order, ahead of `stop` (all when None or not there)."""
    if not REMEMBER:
        for node, _path in walk(nodes):
            if node is stop:
                break
            if variables_set(node):
                yield node
        return
    entry = _walk_of(nodes)
    end = entry.position(stop)
    for i in entry.setters():
        if i >= end:
            break
        yield entry.pairs[i][0]


# Five checks and the coverage figures read the dimensions (and variable assignments) of the same metric in
# the same effective section: compute each once. Keyed by identity, holding the keys so ids stay theirs.
_MEMO: dict[tuple[str, int, int], tuple[object, object, object]] = {}


def _memoised(kind: str, a: object, b: object, compute):
    key = (kind, id(a), id(b))
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is a and hit[1] is b:
        return hit[2]
    value = compute()
    if len(_MEMO) >= _WALKS_MAX:
        _MEMO.clear()
    _MEMO[key] = (a, b, value)
    return value


def forget_walks() -> None:
    """Drop the walk cache once the checks are done: reports do not need it, and at 10,000 APIs it is large."""
    _WALKS.clear()
    _NODE_WALKS.clear()
    _MEMO.clear()
    _READ.clear()
    _MENTIONS.clear()


def walk(nodes: Iterable[PolicyNode]) -> Iterator[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    return iter(_walked(nodes if isinstance(nodes, tuple) else tuple(nodes)))


def token_metrics(nodes: Iterable[PolicyNode]) -> list[tuple[PolicyNode, tuple[PolicyNode, ...]]]:
    return find(nodes, *TOKEN_METRIC_TAGS)


def is_conditional(path: tuple[PolicyNode, ...]) -> bool:
    return any(p.tag in ("when", "otherwise") for p in path)


def variables_set(node: PolicyNode) -> list[str]:
    """Variables a statement sets: set-variable, and every `*variable-name` attribute."""
    names = []
    if node.tag == "set-variable" and node.get("name"):
        names.append(node.get("name") or "")
    for key, value in node.attrs:
        if key.endswith("variable-name") and value and not value.startswith("@"):
            names.append(value)
    return names


@dataclass(frozen=True, slots=True)
class Dimension:
    node: PolicyNode
    name: str
    value: str | None
    builtin: bool  # a default dimension used without a value
    source: ValueSource  # after following variables back to their set-variable


def resolve_variables(source: ValueSource, assignments: dict[str, list[str]], depth: int = 0) -> ValueSource:
    """Fold in what the variables a value reads were set from (bounded, cycles cannot loop)."""
    if depth > 5 or not source.variables:
        return source
    identity, headers, defaults = list(source.identity), list(source.headers), list(source.defaults)
    for var in source.variables:
        for expr in assignments.get(var, []):
            inner = resolve_variables(read_expression(expr), assignments, depth + 1)
            identity.extend(inner.identity)
            headers.extend(inner.headers)
            defaults.extend(inner.defaults)
    return ValueSource(
        tuple(dict.fromkeys(identity)),
        tuple(dict.fromkeys(headers)),
        source.variables,
        tuple(dict.fromkeys(defaults)),
        source.literal,
    )


def assignments_before(nodes: tuple[PolicyNode, ...], stop: PolicyNode | None) -> dict[str, list[str]]:
    """set-variable values in document order up to `stop` (all of them when stop is None). Shared: read only."""
    return _memoised("assignments", nodes, stop, lambda: _assignments_before(nodes, stop))


def _assignments_before(nodes: tuple[PolicyNode, ...], stop: PolicyNode | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node in _setters_before(nodes, stop):
        for name in variables_set(node):
            value = node.get("value") if node.tag == "set-variable" else ""
            if node.tag == "set-variable" and value is None:
                value = node.text
            out.setdefault(name, []).append(value or "")
    return out


def dimensions(metric: PolicyNode, inbound: tuple[PolicyNode, ...]) -> list[Dimension]:
    """The metric's dimensions with what their values are read from. Shared between callers: read only."""
    return _memoised("dimensions", metric, inbound, lambda: _dimensions(metric, inbound))


def _dimensions(metric: PolicyNode, inbound: tuple[PolicyNode, ...]) -> list[Dimension]:
    assignments = assignments_before(inbound, metric)
    dims = []
    for child in metric.children:
        if child.tag != "dimension":
            continue
        name = child.get("name") or ""
        value = child.get("value")
        builtin = value is None and norm_dimension(name) in BUILTIN_DIMENSIONS
        source = ValueSource() if value is None else resolve_variables(read_expression(value), assignments)
        dims.append(Dimension(child, name, value, builtin, source))
    return dims


def consumer_dimensions(dims: list[Dimension]) -> list[Dimension]:
    out = []
    for d in dims:
        if (d.builtin and norm_dimension(d.name) in CONSUMER_BUILTINS) or (not d.builtin and d.source.identifies_consumer):
            out.append(d)
    return out


def unknown_markers(source: ValueSource) -> tuple[str, ...]:
    """Values that will mean 'unattributed' in the metric: the expression's own fallbacks."""
    return tuple(dict.fromkeys(d for d in source.defaults))
