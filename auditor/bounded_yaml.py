"""YAML read safely and within bounds, for every YAML the tool reads (its config, API definitions, the APIOps
extractor configuration).

A SafeLoader (no arbitrary objects) that counts each node as often as aliases repeat it: a few hundred bytes of
nested aliases stand for billions of nodes ("billion laughs"), while anchors used in moderation stay fine.
YAML is imported on first use, not at start-up.
"""

from __future__ import annotations

from functools import cache
from typing import Any

MAX_YAML_NODES = 1_000_000
TIMESTAMP = "tag:yaml.org,2002:timestamp"


@cache
def loader_class(dates_as_text: bool = False) -> type:
    """The bounded SafeLoader; `dates_as_text` keeps `2026-12-31` a string, so a config can refuse a time of day
    or an impossible date with the name of its key instead of a YAML error."""
    import yaml

    class AliasBomb(yaml.YAMLError, ValueError):
        """Aliases that expand past MAX_YAML_NODES."""

    class BoundedLoader(yaml.SafeLoader):
        if dates_as_text:
            yaml_implicit_resolvers = {
                first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
                for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
            }

        def __init__(self, stream: str):
            super().__init__(stream)
            self._weights: dict[int, int] = {}

        def compose_node(self, parent, index):
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
                raise AliasBomb(f"YAML aliases expand to more than {MAX_YAML_NODES:,} nodes (an alias bomb?)")
            return node

    return BoundedLoader


def load_yaml(text: str) -> Any:
    """yaml.safe_load, bounded (a ValueError and a YAMLError past MAX_YAML_NODES)."""
    loader = loader_class()(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
