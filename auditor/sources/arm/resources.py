"""One resource of an ARM template as the reader keeps it, and what its declaration alone says: its copies, an
account's endpoints, its id. Types are kept lower case and full (`microsoft.apimanagement/service/apis`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evaluator import Evaluator
from .values import MAX_ITEMS, RESOURCE_GROUP, OpenObject, is_expression, text

APIM = "microsoft.apimanagement/service"


@dataclass
class Resource:
    type: str  # full type, lower case: microsoft.apimanagement/service/apis/policies
    names: list[str]  # one name per type segment after the namespace
    props: dict[str, Any]
    raw: dict[str, Any]
    address: str  # where in the template, for messages: resources[3].resources[1]
    scope: str | None = None  # extension resources: the resource id they attach to
    ev: Evaluator = field(default_factory=Evaluator)  # the expressions of the template that declares it
    existing: bool = False  # `existing: true`: referenced, not deployed by this template
    loop: str | None = None  # stands for every instance, if any, of this copy loop (its count is the deployment's)
    path: tuple[str | int, ...] | None = None  # its declaration's JSON path in the file (None: built by an expression)


def _known_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ITEMS


def instances(res: dict[str, Any], ev: Evaluator) -> list[Evaluator]:
    """One evaluator per copy of a resource loop (copy-resources).

    A loop whose count the deployment decides (unknown, or 0 only because an array parameter nobody passed
    defaults to `[]`, as compiled samples driven by a parameters file are) is evaluated once, symbolically: what
    it would create is judged as "every instance, if any". A count of 0 is allowed and deploys nothing
    (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources), so no more is claimed.
    """
    loop = res.get("copy")
    if not isinstance(loop, dict) or not isinstance(loop.get("name"), str):
        return [ev]
    count = ev.value(loop.get("count"))
    if not _known_count(count) or (count == 0 and not _known_count(ev.undecided().value(loop.get("count")))):
        return [ev.symbolic(loop["name"])]
    return [ev.with_copy(loop["name"], i) for i in range(count)]


LLM_ACCOUNT_KINDS = ("openai", "aiservices")


def account_properties(item: Resource) -> OpenObject:
    """What `reference()` of a Cognitive Services account gives, from what its declaration says.

    An account with a custom subdomain answers at `https://<subdomain>.openai.azure.com/` (kind OpenAI) or
    `https://<subdomain>.cognitiveservices.azure.com/` (other kinds, AIServices included, which also serve the
    OpenAI endpoint); without one, at the regional `https://<region>.api.cognitive.microsoft.com/`.
    https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains
    """
    ev = item.ev
    kind = ev.value(item.raw.get("kind"))
    sub = ev.value(item.props.get("customSubDomainName"))
    label = f"reference({item.names[0]})"
    if sub is None or sub == "":
        location = ev.value(item.raw.get("location"))
        endpoint = text("https://", location, ".api.cognitive.microsoft.com/")
        return OpenObject(label, {"endpoint": endpoint})
    openai = text("https://", sub, ".openai.azure.com/")
    if isinstance(kind, str) and kind.lower() == "openai":
        endpoint = openai
    else:
        endpoint = text("https://", sub, ".cognitiveservices.azure.com/")
    endpoints = OpenObject(f"{label}.endpoints", {"OpenAI Language Model Instance API": openai} if isinstance(
        kind, str) and kind.lower() in LLM_ACCOUNT_KINDS else {})
    return OpenObject(label, {"endpoint": endpoint, "endpoints": endpoints, "customSubDomainName": sub})


def split_name(name: str) -> list[str]:
    return [s for s in name.split("/") if s] or [name]


def canonical(namespace: str) -> str:
    return {"microsoft.apimanagement": "Microsoft.ApiManagement", "microsoft.cognitiveservices":
            "Microsoft.CognitiveServices", "microsoft.insights": "Microsoft.Insights",
            "microsoft.operationalinsights": "Microsoft.OperationalInsights"}.get(namespace.lower(), namespace)


def absolute(resource_id: str) -> str:
    """Scopes written as `Microsoft.X/y/name` (relative to the deployment's resource group) made absolute."""
    if resource_id.startswith("/") or is_expression(resource_id):
        return resource_id
    segments = resource_id.split("/")
    if len(segments) >= 3 and "." in segments[0]:
        namespace, rest = segments[0], segments[1:]
        types, names = rest[: len(rest) // 2], rest[len(rest) // 2 :]
        return f"{RESOURCE_GROUP}/providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
    return resource_id

