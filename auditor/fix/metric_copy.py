"""The estate's own token metric, copied word for word (TM001), for estates whose metrics give every dimension an
explicit value (`<dimension name="User ID" value="@(context.Request.Headers...)" />`): there is no dimension that
can be left bare, so the statement to add is the estate's own, element, namespace, dimensions and values as
written, re-indented to the file it goes in.

A copy is offered only when its values read what every call has on its way in, whichever API it calls: the
`context` members Api, Deployment, Operation, Product, Request, Subscription and User
(https://learn.microsoft.com/azure/api-management/api-management-policy-expressions#ContextVariables), named
values and literal text; or variables (`context.Variables`). Whether a variable is set in a scope the target also
inherits is left to the proof by re-audit: a copy that makes TM010 (or any finding) appear is not kept. `Response`
and `LastError` do not exist yet on the way in, and anything else (`GraphQL`, `Tracing`, the bare `context`) is not
read by a statement that must mean the same in every API: such a metric is not offered.
"""

from __future__ import annotations

import re

from ..analysis import LEGACY_TOKEN_METRIC
from ..policy.tree import PolicyNode

EVERY_CALL = frozenset({"Api", "Deployment", "Operation", "Product", "Request", "Subscription", "User", "Variables"})
SUCCESSOR = "llm-emit-token-metric"
_END = re.compile(rf"</\s*{LEGACY_TOKEN_METRIC}(\s*>)\s*$")
_CONTEXT = re.compile(r"(?<![\w.])context\b(\s*\??\.\s*([A-Za-z_]\w*))?")


def not_portable(metric: PolicyNode) -> str | None:
    """Why the metric's values would not mean the same in another API's inbound policy, or None when they would."""
    for node in metric.iter():
        for _name, value in node.attrs:
            if not (value or "").lstrip().startswith("@"):
                continue  # literal text (or a named value): the same in every API
            for m in _CONTEXT.finditer(value or ""):
                member = m.group(2)
                if member not in EVERY_CALL:
                    shown = f"context.{member}" if member else "the bare context"
                    return f"<{node.tag}> reads {shown}, which not every call has on its way in"
        if node.text.strip().startswith("@"):
            return f"<{node.tag}> holds an expression as its text, which a token metric does not read"
    return None


def successor_text(copied: str) -> str | None:
    """A copied legacy `<azure-openai-emit-token-metric>` with its start and end tags renamed to the successor
    (what TM004's repair writes), or None when it is not the legacy element."""
    start = f"<{LEGACY_TOKEN_METRIC}"
    if not copied.startswith(start):
        return None
    return _END.sub(rf"</{SUCCESSOR}\1", f"<{SUCCESSOR}" + copied[len(start):])
