"""ARM templates (portal exports, `bicep build` output, nested deployments) as a source.

Resources may be nested (`resources` children with short types) or flat (full types and `svc/api/policy`
names), listed or keyed by symbolic name (languageVersion 2.0). Names and scopes written as template
expressions are resolved where the template itself says enough (see `evaluator`); the rest stays a readable
placeholder. The template is walked (`walk`) and its resources built into the estate (`build`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...estate import Estate
from .build import ArmReader


def _share_strings(doc: Any) -> None:
    """One copy of each string value in the template. json.load shares keys but not values, and a template
    repeats its values resource after resource (types, API versions, the same policy text on every operation):
    the template stays in memory while the estate is built, so each repeat cost memory until the end."""
    memo: dict[str, str] = {}
    stack = [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, str):
                shared = memo.setdefault(value, value)
                if shared is not value:
                    node[key] = shared
            elif isinstance(value, (dict, list)):
                stack.append(value)


def read_arm(path: str | Path, doc: dict[str, Any]) -> Estate:
    _share_strings(doc)
    reader = ArmReader(Path(path), doc)
    reader.collect(doc, "")
    return reader.build()

