"""Resource bounds on what an ARM expression may build: a template is data from anyone, evaluated here.

`padLeft('x', 2147483647)`, `format('{0,2147483647}', 'x')`, forty variables each doubling the previous,
`mul(a, a)` squared inside `reduce`, or `concat()` of 800,000 arguments took gigabytes or never ended. ARM
itself refuses them at deployment, within limits Microsoft states:
- an expression is at most 24,576 characters
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions);
- a template is at most 4 MB after its loops, variables and parameters are expanded
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits),
  so no string, array or object it builds is larger;
- integers are 64-bit (https://learn.microsoft.com/azure/azure-resource-manager/templates/data-types#integers).
Two bounds are this tool's own: the arguments of one call, and the evaluation steps of one template file.
A breach stops that expression: its value is an unknown placeholder and the file gets an AU002 naming it.
"""

from __future__ import annotations

from typing import Any

MAX_EXPRESSION = 24_576  # characters (template-expressions)
MAX_WEIGHT = 4 * 1024 * 1024  # characters and items of one value (template limits: 4 MB expanded)
MAX_INT, MIN_INT = 2**63 - 1, -(2**63)  # data-types: 64-bit integers
MAX_ARGS = 4_096  # arguments of one call (ours: 24,576 characters hold at most about 12,000)
MAX_STEPS = 2_000_000  # function calls and property reads per template file (ours)
MAX_REPORTED = 10  # breaches named per file; the rest are counted


class Breach(Exception):
    """An expression went past a bound: its value is unknown, and the file says so."""


class Budget:
    """One template file's bounds, shared by every evaluator that walks it (nested deployments included)."""

    def __init__(self) -> None:
        self.steps = 0
        self.breaches: list[tuple[str, str]] = []  # (what, expression)
        self.more = 0
        self._weights: dict[int, tuple[Any, int]] = {}  # id → (container kept alive, weight): shared parts once

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Breach(f"more than {MAX_STEPS:,} evaluation steps in this file")

    def record(self, what: str, expression: str) -> None:
        if len(self.breaches) < MAX_REPORTED and (what, expression) not in self.breaches:
            self.breaches.append((what, expression))
        else:
            self.more += 1

    def check(self, value: Any) -> Any:
        """`value`, if it is within bounds (else Breach)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if not MIN_INT <= value <= MAX_INT:
                raise Breach("an integer past 64 bits")
        elif isinstance(value, (str, list, dict, tuple)) or hasattr(value, "parts"):
            if self.weight(value) > MAX_WEIGHT:
                raise Breach(f"a value over {MAX_WEIGHT:,} characters or items")
        return value

    def weight(self, value: Any) -> int:
        """Characters and items, counting a part shared by reference as often as it appears (what `string()` or
        a report would write out), with each distinct container weighed once."""
        if isinstance(value, str):
            return len(value)
        parts = getattr(value, "parts", None)
        if parts is not None and not isinstance(value, (list, dict)):
            return sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts)
        if not isinstance(value, (list, dict, tuple)):
            return 1
        known = self._weights.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        total = 1
        children = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, child in children:
            total += (len(key) if isinstance(key, str) else 0) + self.weight(child)
            if total > MAX_WEIGHT:
                break  # past the bound already: no need to weigh the rest
        if len(self._weights) > 100_000:
            self._weights.clear()
        self._weights[id(value)] = (value, total)
        return total

    def allocation(self, size: int, what: str) -> None:
        """Refuse to build a value of `size` (padding, a format width, a replacement) before building it."""
        if size > MAX_WEIGHT:
            raise Breach(f"{what} of {size:,} characters")
