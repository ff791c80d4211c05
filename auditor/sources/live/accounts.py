"""Azure OpenAI and AI Services accounts read live, with their model deployments."""

from __future__ import annotations

from functools import partial
from typing import Any

from ...estate import AiAccount, Deployment
from ...policy.tree import Origin
from .session import LiveSession

ACCOUNT_READ = "Reader on the Azure OpenAI account"

COGNITIVE_API = "2024-10-01"



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
        out.append(AiAccount(
            rid, str(a.get("name", "")), str(a.get("kind", "")), str(a.get("location", "")), str(props.get("endpoint", "")),
            props.get("disableLocalAuth") if isinstance(props.get("disableLocalAuth"), bool) else None,
            props.get("publicNetworkAccess"), acls.get("defaultAction"),
            tuple(Deployment(str(d.get("name", "")), str((d.get("properties") or {}).get("model", {}).get("name", "")),
                             str((d.get("properties") or {}).get("model", {}).get("version", "")),
                             str((d.get("sku") or {}).get("name", ""))) for d in deployments),
            Origin(None, None, rid, f"account '{a.get('name')}'"),
        ))
    return out
