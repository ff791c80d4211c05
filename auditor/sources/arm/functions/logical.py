"""ARM logical functions: bool, true, false from their arguments; if, and, or, not evaluate only what decides.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import Call, Unresolvable
from ..values import (
    OpenObject,
    Unknown,
    has_unknown,
    label_of,
    need_known,
    truth,
)
from .common import Eager, Evaluator, Lazy


def _bool(args: list[Any], node: Call) -> Any:
    value = args[0]
    need_known(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    verdict = truth(value)
    if verdict is None:
        raise ValueError("bool()")
    return verdict


def _lazy_if(ev: Evaluator, node: Call) -> Any:
    """if: only the chosen branch is evaluated (template-functions-logical#if)."""
    if len(node.args) != 3:
        raise Unresolvable("if() takes 3 arguments")
    cond = truth(ev.eval(node.args[0]))
    if cond is None:
        return _either(ev.eval(node.args[1]), ev.eval(node.args[2]), label_of(node.src))
    return ev.eval(node.args[1] if cond else node.args[2])


def _either(yes: Any, no: Any, label: str) -> Any:
    """The value of an `if` whose condition is unknown: what both branches agree on, objects key by key; where
    one branch is a bare unknown (`if(empty(parameters('name')), <generated>, parameters('name'))`), that
    unknown, so the placeholder names the input that decides (`{name}`)."""
    if yes == no and not has_unknown(yes):
        return yes
    if isinstance(yes, dict) and isinstance(no, dict) and not isinstance(yes, OpenObject) \
            and not isinstance(no, OpenObject) and yes.keys() == no.keys():
        return {k: _either(yes[k], no[k], f"{label}.{k}") for k in yes}
    if isinstance(yes, Unknown) and not yes.secret:
        return yes
    if isinstance(no, Unknown) and not no.secret:
        return no
    return Unknown(label)


def _lazy_and_or(is_and: bool) -> Callable[[Evaluator, Call], Any]:
    def apply(ev: Evaluator, node: Call) -> Any:
        unknown = False
        for arg in node.args:
            value = truth(ev.eval(arg))
            if value is None:
                unknown = True
            elif value is not is_and:
                return not is_and
        return Unknown(label_of(node.src)) if unknown else is_and

    return apply


def _lazy_not(ev: Evaluator, node: Call) -> Any:
    value = truth(ev.eval(node.args[0])) if node.args else None
    return Unknown(label_of(node.src)) if value is None else not value


EAGER: dict[str, Eager] = {
    "bool": _bool,
    "true": lambda a, n: True,
    "false": lambda a, n: False,
}

LAZY: dict[str, Lazy] = {
    "if": _lazy_if,
    "and": _lazy_and_or(True),
    "or": _lazy_and_or(False),
    "not": _lazy_not,
}
