"""What the function tables share: the two kinds of ARM function, and the calls whose value only a deployment knows.

An eager function gets its evaluated arguments (`(args, node)`); a lazy one gets the evaluator and the call and
evaluates what it needs itself (`if` evaluates one branch, `parameters` reads the template's scope). A function
that cannot say anything about an unknown argument raises `NeedsKnown`; the evaluator then makes its result an
`Unknown` labelled with the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..syntax import Call
from ..values import OpenObject, Unknown, label_of


class Evaluator(Protocol):
    """What a lazy function may ask of the evaluator (evaluator.Evaluator), named here so that the function
    tables need not import the evaluator that reads them."""

    copy: dict[str, int]
    locals: dict[str, Any]

    def eval(self, node: Any) -> Any: ...
    def parameter(self, name: str) -> Any: ...
    def variable(self, name: str) -> Any: ...
    def reference(self, target: Any, full: bool) -> Any: ...
    def _with_locals(self, values: dict[str, Any]) -> Evaluator: ...


Eager = Callable[[list[Any], Call], Any]
Lazy = Callable[[Evaluator, Call], Any]


def unknown_call(args: list[Any], node: Call) -> Any:
    return Unknown(label_of(node.src))


def scope_object(label: str, known: dict[str, Any]) -> Lazy:
    """resourceGroup(), subscription(), tenant(), deployment(), environment(): what a deployment knows."""

    def apply(ev: Evaluator, node: Call) -> Any:
        return OpenObject(label, known)

    return apply
