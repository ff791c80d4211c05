"""Print a benchmark's Markdown table and keep it as benchmarks/results-<name>.md."""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def publish(name: str, lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(HERE, f"results-{name}.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
