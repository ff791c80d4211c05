"""ARM lambda functions: lambda() makes a callable over the evaluator; map, filter, reduce, toObject and
mapValues apply it. https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import Call, Unresolvable
from ..values import (
    Unknown,
    as_text,
    has_unknown,
    label_of,
    truth,
)
from .common import Evaluator, Lazy


class Lambda:
    def __init__(self, names: list[str], body: Any, ev: Evaluator):
        self.names, self.body, self.ev = names, body, ev

    def __call__(self, *values: Any) -> Any:
        return self.ev._with_locals(dict(zip(self.names, values, strict=False))).eval(self.body)


def _lambda(ev: Evaluator, node: Call) -> Any:
    """lambda('x', ['y',] body) (template-functions-lambda)."""
    names = [ev.eval(a) for a in node.args[:-1]]
    if not node.args or not all(isinstance(n, str) for n in names):
        raise Unresolvable("lambda()")
    return Lambda(names, node.args[-1], ev)


def _lambda_variables(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else None
    if isinstance(name, str) and name in ev.locals:
        return ev.locals[name]
    return Unknown(label_of(node.src))


def _higher_order(kind: str) -> Callable[[Evaluator, Call], Any]:
    def apply(ev: Evaluator, node: Call) -> Any:
        args = [ev.eval(a) for a in node.args]
        items, fn = args[0], args[-1]
        if not isinstance(fn, Lambda):
            raise Unresolvable(f"{kind}() needs a lambda")
        if isinstance(items, dict) and kind == "mapvalues":
            return {k: fn(v) for k, v in items.items()}
        if not isinstance(items, list):
            return Unknown(label_of(node.src))
        if kind == "map":
            return [fn(v, i) for i, v in enumerate(items)]
        if kind == "filter":
            kept = []
            for i, v in enumerate(items):
                verdict = truth(fn(v, i))
                if verdict is None:
                    return Unknown(label_of(node.src))
                if verdict:
                    kept.append(v)
            return kept
        if kind == "reduce":
            acc = args[1]
            for i, v in enumerate(items):
                acc = fn(acc, v, i)
            return acc
        if kind == "toobject":
            value_fn = args[2] if len(args) > 2 and isinstance(args[2], Lambda) else None
            keys = [fn(v) for v in items]
            if has_unknown(keys):
                return Unknown(label_of(node.src))
            return {as_text(k): (value_fn(v) if value_fn else v) for k, v in zip(keys, items, strict=True)}
        return Unknown(label_of(node.src))

    return apply


LAZY: dict[str, Lazy] = {
    "lambda": _lambda,
    "lambdavariables": _lambda_variables,
    "map": _higher_order("map"),
    "filter": _higher_order("filter"),
    "reduce": _higher_order("reduce"),
    "toobject": _higher_order("toobject"),
    "mapvalues": _higher_order("mapvalues"),
}
