"""The `terraform show -json` document as the reader walks it: resources module by module, the configuration's
references (for links unknown until apply), values marked sensitive masked, nested blocks.
https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...estate import Backend
from ..files import as_str

MAX_MODULE_DEPTH = 50
SENSITIVE = "{sensitive}"  # what a value marked in `sensitive_values` reads as: never its content


def masked(values: Any, mask: Any) -> Any:
    """`values` with every part that the plan's `sensitive_values` marks `true` replaced by SENSITIVE
    (https://developer.hashicorp.com/terraform/internals/json-format: sensitive_values mirrors values)."""
    if mask is True:
        return SENSITIVE
    if not mask:  # nothing marked (`{}`, `[]`, false): the values themselves, not a copy of them
        return values
    if isinstance(mask, dict) and isinstance(values, dict):
        return {k: masked(v, mask.get(k)) for k, v in values.items()}
    if isinstance(mask, list) and isinstance(values, list):
        return [masked(v, mask[i] if i < len(mask) else None) for i, v in enumerate(values)]
    return values


@dataclass
class PlanResource:
    address: str
    type: str
    name: str
    values: dict[str, Any]
    refs: dict[str, list[str]]  # attribute -> addresses it references (from the configuration)
    path: tuple[str | int, ...] = ()  # the JSON path of its object in the document (its values' lines)


def resources_of(module: Any, where: str, gaps: list[str], depth: int = 0,
                 at: tuple[str | int, ...] = ()) -> Iterator[tuple[dict[str, Any], tuple[str | int, ...]]]:
    """Each resource object of the module and its descendants, with its JSON path (`at`: the module's)."""
    if depth > MAX_MODULE_DEPTH or not isinstance(module, dict):
        return
    items = module.get("resources") or []
    if not isinstance(items, list):
        gaps.append(f"{where}.resources is {type(items).__name__}, expected a list")
        items = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("type"), str):
            yield item, (*at, "resources", i)
        else:
            gaps.append(f"{where}: a resource that is not an object with a type")
    children = module.get("child_modules") or []
    if not isinstance(children, list):
        gaps.append(f"{where}.child_modules is {type(children).__name__}, expected a list")
        children = []
    for i, child in enumerate(children):
        yield from resources_of(child, f"{where}.child_modules[{i}]", gaps, depth + 1, (*at, "child_modules", i))


def config_refs(module: Any, prefix: str, out: dict[str, dict[str, list[str]]], depth: int = 0) -> None:
    """address -> attribute -> referenced addresses, from the plan's `configuration` section."""
    if depth > MAX_MODULE_DEPTH or not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or not isinstance(res.get("address"), str):
            continue
        refs: dict[str, list[str]] = {}
        for attr, expr in (res.get("expressions") or {}).items():
            if isinstance(expr, dict) and isinstance(expr.get("references"), list):
                refs[attr] = [prefix + r for r in expr["references"] if isinstance(r, str)]
        out[prefix + res["address"]] = refs
    for name, call in (module.get("module_calls") or {}).items():
        if isinstance(call, dict):
            config_refs(call.get("module"), f"{prefix}module.{name}.", out, depth + 1)


def base_address(address: str) -> str:
    """`module.m.azurerm_x.y["k"]` -> `module.m.azurerm_x.y` (configuration addresses carry no index)."""
    return address.split("[", 1)[0]


def block(value: Any) -> dict[str, Any]:
    """A nested block: Terraform JSON gives a list of one object (or an empty list)."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def last(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else ""


def azapi_backend(name: str, body: Any) -> Backend:
    """An azapi_resource body (an object, or JSON text in azapi 1.x) as a backend: url, pool members."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    props = block(block(body).get("properties"))
    pool = block(props.get("pool"))
    members = tuple(as_str(m.get("id")) for m in pool.get("services") or [] if isinstance(m, dict))
    kind = "pool" if members or as_str(props.get("type")).lower() == "pool" else "single"
    return Backend(name, as_str(props.get("url")), kind, members, as_str(props.get("resourceId")))

