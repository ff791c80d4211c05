"""Operations from an API definition (OpenAPI 2/3, JSON or YAML): names, methods, paths.

The extractor keeps operation policies only for operations that have one; the definition tells us
the others exist (and what their paths look like, which is how OpenAI-style APIs are recognised).
"""

from __future__ import annotations

from typing import Any

import yaml

from ..estate import Operation

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# A YAML alias repeats its anchor's whole subtree: a few hundred bytes of nested aliases stand for billions
# of nodes ("billion laughs"). Definitions may use anchors; their expanded size is bounded instead.
MAX_YAML_NODES = 1_000_000


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts each node as often as aliases repeat it and refuses past MAX_YAML_NODES."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._weights: dict[int, int] = {}

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        node = super().compose_node(parent, index)
        weight = self._weights.get(id(node))
        if weight is None:  # a new node (an alias returns its anchor's node, already weighed)
            if isinstance(node, yaml.SequenceNode):
                weight = 1 + sum(self._weights.get(id(c), 1) for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                weight = 1 + sum(self._weights.get(id(k), 1) + self._weights.get(id(v), 1) for k, v in node.value)
            else:
                weight = 1
            self._weights[id(node)] = weight
        if weight > MAX_YAML_NODES:
            raise ValueError(f"YAML aliases expand to more than {MAX_YAML_NODES:,} nodes (an alias bomb?)")
        return node


def load_yaml(text: str) -> Any:
    """yaml.safe_load with aliases bounded (ValueError past MAX_YAML_NODES)."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


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
