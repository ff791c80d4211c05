"""Decide which APIs are LLM APIs, and say why, so a person can check the call and override it."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..estate import AiAccount, Api, ApimService
from ..policy.tree import PolicyNode
from .effective import Facts, FragmentResolver

LLM_HOSTS = (
    (re.compile(r"\.openai\.azure\.(com|us|cn)$"), "an Azure OpenAI endpoint"),
    (re.compile(r"\.cognitiveservices\.azure\.(com|us|cn)$"), "an Azure AI Services endpoint"),
    (re.compile(r"\.services\.ai\.azure\.(com|us|cn)$"), "an Azure AI Foundry endpoint"),
    (re.compile(r"\.(inference|models)\.ai\.azure\.(com|us|cn)$"), "an Azure AI model inference endpoint"),
    (re.compile(r"\.api\.cognitive\.microsoft\.com$"), "an Azure AI Services endpoint"),
    (re.compile(r"^api\.openai\.com$"), "the OpenAI API"),
    (re.compile(r"^api\.anthropic\.com$"), "the Anthropic API"),
    (re.compile(r"^generativelanguage\.googleapis\.com$"), "the Google Gemini API"),
    (re.compile(r"^bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com$"), "AWS Bedrock"),
    (re.compile(r"^api\.(mistral\.ai|deepseek\.com|groq\.com|together\.xyz)$"), "an OpenAI-compatible API"),
)
LLM_PATHS = re.compile(
    r"(^|/)(deployments/[^/]+/)?(chat/completions|completions|embeddings|responses|images/generations"
    r"|audio/(transcriptions|translations|speech)|v1/messages|models/[^/]+:generateContent)(/|$|\?)",
    re.I,
)
LLM_POLICY_PREFIXES = ("llm-", "azure-openai-")
LLM_ACCOUNT_KINDS = ("openai", "aiservices")
AI_AUDIENCES = ("https://cognitiveservices.azure.com", "https://ai.azure.com")
_CS_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')  # string literals of a C# policy expression
_NAMED_VALUE = re.compile(r"\{\{([^{}]*)\}\}")  # spaces stripped in code: `\s*([^{}]+?)\s*` was cubic


@dataclass(frozen=True, slots=True)
class LlmVerdict:
    is_llm: bool
    reasons: tuple[str, ...]
    overridden: bool = False


def _host_reason(url: str) -> str | None:
    if not url or url.startswith("@"):
        return None
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    shown = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0] or host  # as written: placeholders keep their case
    for pattern, what in LLM_HOSTS:
        if pattern.search(host):
            return f"{shown} is {what}"
    if parts.path.rstrip("/").lower().endswith("/openai"):
        return f"{url} ends in /openai (Azure OpenAI-style path)"
    return None


def _entity_name(reference: str) -> str:
    """A backend referred to by name, by APIM path (`/backends/x`) or by full resource id: its name."""
    return reference.strip().rstrip("/").rsplit("/", 1)[-1]


def _named_values(service: ApimService, value: str) -> str:
    """`{{name}}` replaced by the named value's plain value where the estate has it (secrets never are)."""
    def sub(m: re.Match[str]) -> str:
        key = m.group(1).strip().lower()
        if not key:
            return m.group(0)
        nv = next((n for n in service.named_values if key in (n.name.lower(), n.display_name.lower())), None)
        return nv.value if nv is not None and nv.value and not nv.secret else m.group(0)

    return _NAMED_VALUE.sub(sub, value) if "{{" in value else value


def _backend_reasons(service: ApimService, backend_id: str, seen: set[str], accounts: tuple[AiAccount, ...] = ()
                     ) -> list[str]:
    name = _entity_name(_named_values(service, backend_id))
    if name.lower() in seen:
        return []
    seen.add(name.lower())
    backend = next((b for b in service.backends if b.name.lower() == name.lower()), None)
    if backend is None:
        return []
    reasons = []
    why = _url_reason(service, backend.url, accounts)
    if why:
        reasons.append(f"backend '{backend.name}': {why}")
    if "microsoft.cognitiveservices/accounts" in backend.resource_id.lower():
        account = _account_by_id(accounts, backend.resource_id)
        if account is None or account.kind.lower() in LLM_ACCOUNT_KINDS or not account.kind:
            reasons.append(f"backend '{backend.name}' points at Cognitive Services account "
                           f"{_entity_name(backend.resource_id)}")
    members = [r for m in backend.pool_members for r in _backend_reasons(service, m, seen, accounts)]
    reasons.extend(f"pool '{backend.name}' member {r}" for r in members)
    return reasons


def _account_by_id(accounts: tuple[AiAccount, ...], resource_id: str) -> AiAccount | None:
    return next((a for a in accounts if a.resource_id.lower() == resource_id.lower()), None)


def _url_reason(service: ApimService, url: str, accounts: tuple[AiAccount, ...]) -> str | None:
    """Why a URL (named values resolved) is an LLM endpoint: a known host, or a declared account's endpoint."""
    resolved = _named_values(service, url or "")
    via = f" (named value {url.strip()})" if resolved != (url or "") else ""
    host = hostname(resolved)
    for account in accounts:
        if host and host == hostname(account.endpoint):
            if account.kind and account.kind.lower() not in LLM_ACCOUNT_KINDS and not account.kind.startswith("{"):
                return None
            shown = account.endpoint.split("://", 1)[-1].split("/", 1)[0]  # as written: placeholders keep their case
            return f"{shown} is the endpoint of account '{account.name}' (kind {account.kind or 'unknown'}){via}"
    why = _host_reason(resolved)
    return f"{why}{via}" if why else None


def hostname(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower() if url else ""
    except ValueError:
        return ""


def _expression_reasons(service: ApimService, expression: str, accounts: tuple[AiAccount, ...]) -> list[str]:
    """A policy expression `@(...)` choosing a backend: its string literals that are LLM hosts or backends."""
    reasons = []
    for literal in dict.fromkeys(_CS_LITERAL.findall(expression)):
        why = _url_reason(service, literal, accounts) if "." in literal else None
        if why:
            reasons.append(f"expression literal \"{literal}\": {why}")
        elif any(b.name.lower() == literal.lower() for b in service.backends):
            reasons.extend(_backend_reasons(service, literal, set(), accounts))
    return reasons


def _variable_sources(nodes: list[PolicyNode], expression: str) -> str:
    """The expressions of the `set-variable`s an expression reads, transitively: a backend chosen from a list
    kept in a variable (`base-url="@((string)context.Variables["backendUrl"])"`) names its hosts there."""
    setters: dict[str, list[str]] = {}
    for node in nodes:
        if node.tag == "set-variable" and node.get("name"):
            setters.setdefault(node.get("name") or "", []).append((node.get("value") or "") + " " + node.text)
    seen: set[str] = set()
    todo = [expression]
    out = []
    while todo:
        current = todo.pop()
        for name in _CS_LITERAL.findall(current):
            if name in setters and name not in seen:
                seen.add(name)
                out.extend(setters[name])
                todo.extend(setters[name])
    return "\n".join(out)


def _policy_reasons(service: ApimService, nodes: list[PolicyNode], accounts: tuple[AiAccount, ...] = ()
                    ) -> list[str]:
    reasons: list[str] = []
    for node in nodes:
        if node.tag == "authentication-managed-identity":
            # the token audience of Azure AI Services / Azure OpenAI (and of Azure AI Foundry): the backend is one.
            # https://learn.microsoft.com/azure/api-management/api-management-authenticate-authorize-azure-openai
            resource = (node.get("resource") or "").strip().rstrip("/").lower()
            if resource in AI_AUDIENCES:
                reasons.append(f"authenticates to its backend with a managed-identity token for {resource} "
                               f"(Azure AI Services), line {node.origin.line}")
        if node.tag == "set-backend-service":
            for attr in ("backend-id", "base-url"):
                value = (node.get(attr) or "").strip()
                if value.startswith("@"):
                    found = _expression_reasons(service, value, accounts)
                    if not found:  # the value is picked from variables: their literals name the candidates
                        found = [f"chosen from variables set in the policy: {r}" for r in
                                 _expression_reasons(service, _variable_sources(nodes, value), accounts)]
                elif attr == "backend-id":
                    found = _backend_reasons(service, value, set(), accounts) if value else []
                else:
                    why = _url_reason(service, value, accounts)
                    found = [why] if why else []
                if len(found) > 2:
                    found = [*found[:2], f"and {len(found) - 2} more like them"]
                reasons.extend(f"set-backend-service {attr} (line {node.origin.line}): {r}" for r in found)
        elif node.tag.startswith(LLM_POLICY_PREFIXES):
            reasons.append(f"uses the <{node.tag}> policy (line {node.origin.line})")
    return reasons


def _only_llm_backends(service: ApimService, accounts: tuple[AiAccount, ...]) -> list[str]:
    """An API with no service URL and no policy of its own that the estate holds (a linked policy is not read)
    reaches a backend that a policy picks; when every backend of its service is an LLM endpoint, so is its."""
    singles = [b for b in service.backends if b.backend_type != "pool"]
    if not singles or not all(_url_reason(service, b.url, accounts) for b in singles):
        return []
    names = ", ".join(b.name for b in singles[:3]) + (" …" if len(singles) > 3 else "")
    return [f"no service URL or readable policy of its own, and every backend of the service is an LLM endpoint "
            f"({names})"]


def matches(patterns: tuple[str, ...], service: str, api: str) -> bool:
    return any(fnmatch.fnmatchcase(api, p) or fnmatch.fnmatchcase(f"{service}/{api}", p) for p in patterns)


def _own_nodes(service: ApimService, api: Api, facts: Facts | None = None) -> list[PolicyNode]:
    """Statements of the API's and its operations' own policies (fragments expanded).

    Outer scopes are left out on purpose: a global token metric says nothing about what each API is.
    """
    fragments = FragmentResolver(service.fragments, api.workspace, facts)
    nodes: list[PolicyNode] = []
    for policy in (api.policy, *(op.policy for op in api.operations)):
        if policy is None or policy.document is None:
            continue
        for section in policy.document.sections.values():
            for top in fragments.expand(section.children):
                nodes.extend(top.iter())
    return nodes


def classify(
    service: ApimService,
    api: Api,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    accounts: tuple[AiAccount, ...] = (),
    facts: Facts | None = None,
) -> LlmVerdict:
    """LLM or not, with every reason found: the service URL, backends (pools and their members), hosts in
    `set-backend-service` expressions, named values the estate resolves, declared accounts' endpoints,
    LLM policies, OpenAI-style operations. `accounts`: the estate's accounts, whose endpoints and kinds are known.
    `facts`: node facts the API's effective resolution already found (see `FragmentResolver`).
    """
    reasons: list[str] = []
    why = _url_reason(service, api.service_url, accounts)
    if why:
        reasons.append(f"service URL: {why}")
    nodes = _own_nodes(service, api, facts)
    reasons.extend(_policy_reasons(service, nodes, accounts))
    paths = [op.url_template for op in api.operations if op.url_template] + list(api.spec_paths)
    llm_paths = sorted({p for p in paths if LLM_PATHS.search(p)})
    if llm_paths:
        shown = ", ".join(llm_paths[:3]) + (" …" if len(llm_paths) > 3 else "")
        reasons.append(f"OpenAI-style operations: {shown}")
    if api.api_type.lower() in ("openai", "azureopenai", "llm"):
        reasons.append(f"API type is '{api.api_type}'")
    if not reasons and not api.service_url and api.policy is None and not any(o.policy for o in api.operations):
        reasons.extend(_only_llm_backends(service, accounts))
    reasons = list(dict.fromkeys(reasons))
    if matches(exclude, service.name, api.name):
        return LlmVerdict(False, ("excluded by configuration (llm_apis.exclude)", *reasons), True)
    if matches(include, service.name, api.name):
        return LlmVerdict(True, ("included by configuration (llm_apis.include)", *reasons), True)
    return LlmVerdict(bool(reasons), tuple(reasons) or ("no LLM backend, policy or operation found",))
