"""Which Azure OpenAI accounts an API's calls reach: its backend names an account, or a pool of them.

Used to price gateway tokens that carry no model by what that backend actually served, and to tell "the
gateway query saw nothing" from "nothing was served". Empty when nothing in the estate says (an expression
picks the backend, or the account is not in the estate): callers must then say the mix is unknown.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..analysis import walk
from ..estate import AiAccount, ApimService, Backend
from .views import ApiView

MAX_POOL_DEPTH = 8


def _host(url: str) -> str:
    if not url or url.startswith("@"):
        return ""
    try:
        return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()
    except ValueError:
        return ""


def _account_for(url_or_id: str, accounts: tuple[AiAccount, ...]) -> AiAccount | None:
    low = url_or_id.lower()
    if "/providers/microsoft.cognitiveservices/accounts/" in low:
        rid = "/subscriptions/" + low.split("/subscriptions/", 1)[-1].rstrip("/")
        for a in accounts:
            if a.resource_id.lower().rstrip("/") == rid:
                return a
        name = rid.rsplit("/", 1)[-1]
        return next((a for a in accounts if a.name.lower() == name), None)
    host = _host(url_or_id)
    if not host:
        return None
    for a in accounts:
        if a.endpoint and _host(a.endpoint) == host:
            return a
    first = host.split(".", 1)[0]
    return next((a for a in accounts if a.name.lower() == first), None)


def _backend(service: ApimService, ref: str) -> Backend | None:
    name = ref.rstrip("/").rsplit("/", 1)[-1]
    return next((b for b in service.backends if b.name == name), None)


def _named(url_or_id: str) -> str:
    """The account a backend names when the estate does not hold it: the resource id's last segment, or the
    first label of an Azure OpenAI / AI Services host (platform rows name accounts the same way)."""
    low = url_or_id.lower()
    if "/providers/microsoft.cognitiveservices/accounts/" in low:
        return low.rstrip("/").rsplit("/", 1)[-1]
    host = _host(url_or_id)
    if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com",
                      ".openai.azure.us", ".openai.azure.cn")):
        return host.split(".", 1)[0]
    return ""


def _backend_accounts(service: ApimService, ref: str, accounts: tuple[AiAccount, ...], depth: int = 0) -> set[str]:
    backend = _backend(service, ref)
    if backend is None or depth > MAX_POOL_DEPTH:
        return set()
    found: set[str] = set()
    for where in (backend.resource_id, backend.url):
        account = _account_for(where, accounts) if where else None
        if account is not None:
            found.add(account.resource_id.lower())
            break
    else:
        name = next((n for n in (_named(backend.resource_id), _named(backend.url)) if n), "")
        if name:
            found.add(name)
    for member in backend.pool_members:
        found |= _backend_accounts(service, member, accounts, depth + 1)
    return found


def _by_url(url: str, accounts: tuple[AiAccount, ...]) -> set[str]:
    account = _account_for(url, accounts)
    if account is not None:
        return {account.resource_id.lower()}
    return {_named(url)} - {""}


def api_accounts(view: ApiView, accounts: tuple[AiAccount, ...]) -> frozenset[str]:
    """Accounts this API's calls go to, over all its operations and products: resource ids (lower-case) of
    accounts in the estate, else the account name the backend's URL or resource id gives."""
    found: set[str] = set()
    backend_set = False
    service = view.service.scoped(view.api.workspace)  # a workspace API's backend-id names its workspace's backend
    for ep in view.effective:
        for node, _path in walk(ep.inbound):
            if node.tag != "set-backend-service":
                continue
            backend_set = True
            if node.get("backend-id"):
                found |= _backend_accounts(service, node.get("backend-id") or "", accounts)
            elif node.get("base-url"):
                found |= _by_url(node.get("base-url") or "", accounts)
    if not backend_set and view.api.service_url:
        found |= _by_url(view.api.service_url, accounts)
    return frozenset(found)
