"""Reading headers and caller identity in policy statements: which headers the gateway sets, requires or
verifies against the authenticated caller, and which statements authenticate the caller at all.
Expressions are read as text (analysis.read_expression), never evaluated.
"""

from __future__ import annotations

import fnmatch

from .analysis import JWT_VALIDATORS, assignments_before, find, read_expression, resolve_variables, walk
from .policy.tree import PolicyNode


def header_matches(name: str, patterns: tuple[str, ...]) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


def headers_set_by_policy(nodes: tuple[PolicyNode, ...], stop: PolicyNode | None = None) -> dict[str, PolicyNode]:
    """Request headers the gateway itself sets (override/skip) before `stop`."""
    out: dict[str, PolicyNode] = {}
    for node, _path in find(nodes, "set-header", before=stop):
        if (node.get("exists-action") or "override").lower() in ("override", "skip", "append"):
            out[(node.get("name") or "").lower()] = node
    return out


def header_value(node: PolicyNode) -> str:
    """The value a set-header writes: its <value> children."""
    return "\n".join(c.text for c in node.children if c.tag == "value")


def header_is_required(header: str, nodes: tuple[PolicyNode, ...]) -> PolicyNode | None:
    """A statement that rejects or defaults a request missing this header, if any."""
    low = header.lower()
    for node, path in find(nodes, "check-header", "validate-headers", "set-header", "return-response"):
        if node.tag == "check-header" and (node.get("name") or "").lower() == low:
            return node
        if node.tag == "validate-headers":
            return node
        if node.tag == "set-header" and (node.get("name") or "").lower() == low:
            if (node.get("exists-action") or "").lower() == "skip":
                return node  # gives a default when the caller sent none
        if node.tag == "return-response":
            conditions = " ".join(p.get("condition") or "" for p in path if p.tag == "when")
            if low in conditions.lower():
                return node
    return None


CLIENT_CERT_VALIDATORS = ("validate-client-certificate",)


def forwarded_attribution_headers(sections: dict[str, tuple[PolicyNode, ...]], patterns: tuple[str, ...]) -> list[PolicyNode]:
    """set-header statements (inbound or backend) that put the caller's attribution on the forwarded request."""
    found = []
    for section in ("inbound", "backend"):
        for node, _path in find(sections.get(section, ()), "set-header"):
            if (node.get("exists-action") or "").lower() == "delete":
                continue
            if header_matches(node.get("name") or "", patterns) or read_expression(header_value(node)).identity:
                found.append(node)
    return found


def caller_identity_checks(inbound: tuple[PolicyNode, ...]) -> list[PolicyNode]:
    """Statements that authenticate the caller: token validation or a client certificate."""
    wanted = JWT_VALIDATORS + CLIENT_CERT_VALIDATORS
    return [node for node, _path in find(inbound, *wanted)]


def header_is_verified(header: str, inbound: tuple[PolicyNode, ...]) -> PolicyNode | None:
    """A statement that ties a caller header to the authenticated identity, if any.

    Either the header is itself a validated token (`validate-jwt header-name=...`), or a condition or
    expression compares it with the subscription, user, product or a JWT claim.
    """
    low = header.lower()
    assignments = assignments_before(inbound, None)
    for node, _path in walk(inbound):
        if node.tag in JWT_VALIDATORS and (node.get("header-name") or "").lower() == low:
            return node
        texts = [node.get("condition") or ""] if node.tag == "when" else []
        if node.tag in ("check-header", "validate-headers"):
            continue
        texts += [v for k, v in node.attrs if k != "condition" and v.startswith("@")]
        if node.text.lstrip().startswith("@"):
            texts.append(node.text)
        for text in texts:
            source = resolve_variables(read_expression(text), assignments)
            if low in source.headers and source.identity:
                return node
    return None
