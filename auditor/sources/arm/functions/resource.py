"""ARM resource functions: ids built from their parts; reference() reads what the template declares.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import Call, Unresolvable
from ..values import (
    RESOURCE_GROUP_T,
    SUBSCRIPTION_T,
    NeedsKnown,
    Unknown,
    text,
)
from .common import Eager, Evaluator, Lazy, unknown_call


def _resource_id(prefix: Any, kind: str = "resourceGroup") -> Callable[[list[Any], Call], Any]:
    """resourceId([subscriptionId], [resourceGroupName], type, name1, name2...) (template-functions-resource)."""

    def build(args: list[Any], node: Call) -> Any:
        values = list(args)
        # the type is the first argument holding a '/', e.g. 'Microsoft.Web/sites'
        at = next((i for i, a in enumerate(values) if isinstance(a, str) and "/" in a), None)
        if at is None:
            raise NeedsKnown
        scope = prefix
        before = values[:at]
        if kind == "resourceGroup" and len(before) == 2:
            scope = text("/subscriptions/", before[0], "/resourceGroups/", before[1])
        elif kind == "resourceGroup" and len(before) == 1:
            scope = text(SUBSCRIPTION_T, "/resourceGroups/", before[0])
        elif kind == "subscription" and len(before) == 1:
            scope = text("/subscriptions/", before[0])
        rtype, names = values[at], values[at + 1:]
        segments = rtype.split("/")
        namespace, types = segments[0], segments[1:]
        pieces: list[Any] = [scope, "/providers/", namespace]
        for t, n in zip(types, names, strict=False):
            pieces += ["/", t, "/", n]
        return text(*pieces)

    return build


def _extension_resource_id(args: list[Any], node: Call) -> Any:
    return text(args[0], _resource_id("", "tenant")(args[1:], node))


def _reference(ev: Evaluator, node: Call) -> Any:
    """reference(resourceName or id or symbolic name, [apiVersion], ['Full']) (template-functions-resource)."""
    args = [ev.eval(a) for a in node.args]
    if not args:
        raise Unresolvable("reference() without a resource")
    full = any(isinstance(a, str) and a.lower() == "full" for a in args[1:])
    return ev.reference(args[0], full)


EAGER: dict[str, Eager] = {
    "resourceid": _resource_id(RESOURCE_GROUP_T),
    "subscriptionresourceid": _resource_id(SUBSCRIPTION_T, "subscription"),
    "tenantresourceid": _resource_id("", "tenant"),
    "managementgroupresourceid": lambda a, n: text(
        "/providers/Microsoft.Management/managementGroups/", Unknown("managementGroup"),
        _resource_id("", "tenant")(a[-2:] if len(a) >= 2 else a, n)),
    "extensionresourceid": _extension_resource_id,
    "pickzones": unknown_call,
    "providers": unknown_call,
    "references": unknown_call,
}

LAZY: dict[str, Lazy] = {
    "reference": _reference,
}
