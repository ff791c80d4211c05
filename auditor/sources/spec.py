"""Operations from an API definition (OpenAPI 2/3, JSON or YAML): names, methods, paths.

The extractor keeps operation policies only for operations that have one; the definition tells us
the others exist (and what their paths look like, which is how OpenAI-style APIs are recognised).
"""

from __future__ import annotations

from typing import Any

from ..bounded_yaml import load_yaml
from ..estate import Operation

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
def _load(text: str, path: str) -> Any:
    if path.endswith(".json"):
        import json

        return json.loads(text)
    return load_yaml(text)


def operations_from_spec(text: str, path: str) -> tuple[Operation, ...]:
    """Raises ValueError (or a parser error) on a definition we cannot read."""
    doc = _load(text, path)
    if not isinstance(doc, dict):
        return ()
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return ()
    ops = []
    for url, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id, summary = op.get("operationId"), op.get("summary")
            name = op_id if isinstance(op_id, str) and op_id else f"{method}-{url}"
            ops.append(Operation(name=name, method=method.upper(), url_template=str(url),
                                 display_name=summary if isinstance(summary, str) and summary else name))
    return tuple(ops)
