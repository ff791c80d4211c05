"""ARM deployment functions: parameters and variables of the template's scope; deployment() and environment().
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment
"""

from __future__ import annotations

from typing import Any

from ..syntax import Call
from ..values import (
    Unknown,
    label_of,
)
from .common import Evaluator, Lazy, scope_object


def _param_call(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else ""
    return ev.parameter(name) if isinstance(name, str) else Unknown(label_of(node.src))


def _var_call(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else ""
    return ev.variable(name) if isinstance(name, str) else Unknown(label_of(node.src))


LAZY: dict[str, Lazy] = {
    "parameters": _param_call,
    "variables": _var_call,
    "deployment": scope_object("deployment()", {"name": Unknown("deployment().name")}),
    "environment": scope_object("environment()", {"name": Unknown("environment().name")}),
}
