"""Azure OpenAI and AI Services accounts read live, with their model deployments."""

from __future__ import annotations

from functools import partial
from typing import Any

from ...estate import AiAccount, Deployment, Project, tags_from
from ...policy.tree import Origin
from .session import LiveSession

ACCOUNT_READ = "Reader on the Azure OpenAI account"

COGNITIVE_API = "2024-10-01"
# Foundry projects (Microsoft.CognitiveServices/accounts/projects) exist from api-version 2025-04-01-preview; 2025-06-01
# is the first stable one (azure-rest-api-specs specification/cognitiveservices, stable/2025-06-01). Projects group
# work inside an AIServices account; usage is billed to the account
# (https://learn.microsoft.com/en-us/azure/ai-foundry/concepts/architecture).
PROJECTS_API = "2025-06-01"



def list_accounts(s: LiveSession, apim, sub: str) -> list[AiAccount]:
    scope = f"/subscriptions/{sub}" + (f"/resourceGroups/{s.options.resource_group}" if s.options.resource_group else "")
    path = f"{scope}/providers/Microsoft.CognitiveServices/accounts?api-version={COGNITIVE_API}"
    raw: list[dict[str, Any]] = s.read(scope, "Reader on the subscription", lambda: s.raw_list(apim, path), [])
    return accounts_from(s, apim, raw)


def accounts_from(s: LiveSession, apim, raw: list[dict[str, Any]]) -> list[AiAccount]:
    out = []
    for a in raw:
        if str(a.get("kind", "")).lower() not in ("openai", "aiservices"):
            continue
        found = a.get("properties")
        props: dict[str, Any] = found if isinstance(found, dict) else {}
        network = props.get("networkAcls")
        acls: dict[str, Any] = network if isinstance(network, dict) else {}
        rid = str(a.get("id", ""))
        deployments: list[dict[str, Any]] = s.read(rid, ACCOUNT_READ, partial(
            s.raw_list, apim, f"{rid}/deployments?api-version={COGNITIVE_API}"), [])
        projects: list[dict[str, Any]] = []
        if str(a.get("kind", "")).lower() == "aiservices":  # only Foundry (AIServices) accounts hold projects
            projects = s.read(f"{rid}/projects", ACCOUNT_READ, partial(
                s.raw_list, apim, f"{rid}/projects?api-version={PROJECTS_API}"), [])
        out.append(AiAccount(
            rid, str(a.get("name", "")), str(a.get("kind", "")), str(a.get("location", "")), str(props.get("endpoint", "")),
            props.get("disableLocalAuth") if isinstance(props.get("disableLocalAuth"), bool) else None,
            props.get("publicNetworkAccess"), acls.get("defaultAction"),
            tuple(_deployment(d) for d in deployments),
            Origin(None, None, rid, f"account '{a.get('name')}'"),
            tags_from(a.get("tags")),
            tuple(Project(str(pr.get("name", "")).rsplit("/", 1)[-1], str(pr.get("id", "")), tags_from(pr.get("tags")),
                          Origin(None, None, str(pr.get("id", "")), f"project '{pr.get('name')}'"))
                  for pr in projects if isinstance(pr, dict)),
        ))
    return out


def _deployment(d: dict[str, Any]) -> Deployment:
    """A deployment as the deployments list returns it: model, `sku.name`, `sku.capacity` (PTUs for a provisioned
    SKU, thousands of tokens per minute otherwise) and tags (Deployments_List, azure-rest-api-specs
    specification/cognitiveservices, stable/2024-10-01)."""
    props = d.get("properties") if isinstance(d.get("properties"), dict) else {}
    model = props.get("model") if isinstance(props.get("model"), dict) else {}
    sku = d.get("sku") if isinstance(d.get("sku"), dict) else {}
    capacity = sku.get("capacity")
    return Deployment(str(d.get("name", "")), str(model.get("name", "")), str(model.get("version", "")),
                      str(sku.get("name", "")), capacity if isinstance(capacity, int) and not isinstance(capacity, bool)
                      else None, tags_from(d.get("tags")))
