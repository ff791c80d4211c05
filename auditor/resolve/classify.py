"""Decide which APIs are LLM APIs by what their backend serves, and say why, so a person can check the call
and override it.

Decisive: a host that serves model inference only, an account of kind OpenAI, a model-inference path forwarded
to on a shared Azure AI host (`/openai/`, `/models/`, chat/completions, responses, embeddings, realtime ...),
an LLM policy, OpenAI-style operations, an OpenAI API type. Never decisive alone: a managed-identity audience
or an Azure AI host family, which every Azure AI service shares. Non-LLM AI services (ai_services.py) are
listed with why.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..estate import AiAccount, Api, ApimService
from ..policy.tree import PolicyNode
from .ai_services import (
    LLM_ONLY_KINDS,
    MULTI_SERVICE_KINDS,
    NON_LLM_API_TYPES,
    NON_LLM_KINDS,
    TOOLBOX_HEADER,
    service_of,
)
from .effective import Facts, FragmentResolver

# Hosts that serve model inference only: the host alone decides.
LLM_HOSTS = (
    (re.compile(r"\.openai\.azure\.(com|us|cn)$"), "an Azure OpenAI endpoint"),
    (re.compile(r"\.(inference|models)\.ai\.azure\.(com|us|cn)$"), "an Azure AI model inference endpoint"),
    (re.compile(r"^api\.openai\.com$"), "the OpenAI API"),
    (re.compile(r"^api\.anthropic\.com$"), "the Anthropic API"),
    (re.compile(r"^generativelanguage\.googleapis\.com$"), "the Google Gemini API"),
    (re.compile(r"^bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com$"), "AWS Bedrock"),
    (re.compile(r"^api\.(mistral\.ai|deepseek\.com|groq\.com|together\.xyz)$"), "an OpenAI-compatible API"),
)
# Hosts every Azure AI service answers on (Content Safety, Translator, Speech ... and model inference): the path
# the gateway forwards to decides, never the host family alone (RULES.md, "LLM API").
# https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains
AI_SERVICE_HOSTS = (
    (re.compile(r"\.cognitiveservices\.azure\.(com|us|cn)$"), "an Azure AI Services host"),
    (re.compile(r"\.services\.ai\.azure\.(com|us|cn)$"), "an Azure AI Foundry host"),
    (re.compile(r"\.api\.cognitive\.microsoft\.com$"), "an Azure AI Services host"),
)
LLM_PATHS = re.compile(
    r"(^|/)(deployments/[^/]+/)?(chat/completions|completions|embeddings|responses|images/generations|realtime"
    r"|audio/(transcriptions|translations|speech)|v1/messages|models/[^/]+:generateContent)(/|$|\?)",
    re.I,
)
# Model inference on an Azure AI Services / Foundry host: Azure OpenAI (`/openai/deployments/...`, `/openai/v1/`)
# https://learn.microsoft.com/azure/ai-foundry/openai/reference and Foundry model inference (`/models/chat/completions`)
# https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api
INFERENCE_PATH = re.compile(r"(^|/)(openai|models)(/|$|\?)", re.I)
LLM_POLICY_PREFIXES = ("llm-", "azure-openai-")
# Audiences every Azure AI service accepts: recorded as a note, never decisive on their own.
# https://learn.microsoft.com/azure/api-management/api-management-authenticate-authorize-azure-openai
AI_AUDIENCES = ("https://cognitiveservices.azure.com", "https://ai.azure.com")
_CS_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')  # string literals of a C# policy expression
_NAMED_VALUE = re.compile(r"\{\{([^{}]*)\}\}")  # spaces stripped in code: `\s*([^{}]+?)\s*` was cubic


@dataclass(frozen=True, slots=True)
class LlmVerdict:
    is_llm: bool
    reasons: tuple[str, ...]
    overridden: bool = False
    # non-LLM AI services the API calls, each with why ("Azure AI Translator: rewrite-uri template /translator/...")
    services: tuple[str, ...] = ()


def hostname(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower() if url else ""
    except ValueError:
        return ""


def _entity_name(reference: str) -> str:
    """A backend referred to by name, by APIM path (`/backends/x`) or by full resource id: its name."""
    return reference.strip().rstrip("/").rsplit("/", 1)[-1]


def _split(url: str) -> tuple[str, str, str]:
    """(host lower-case, host as written, path) of a URL; empty where it is not one."""
    if not url or url.startswith("@"):
        return "", "", ""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", "", ""
    return host, parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0] or host, parts.path


def _inference_path(path: str) -> bool:
    return bool(INFERENCE_PATH.search(path) or LLM_PATHS.search(path))


class _Classifier:
    """One API's classification: decisive reasons, non-LLM services seen and notes that decide nothing."""

    def __init__(self, service: ApimService, accounts: tuple[AiAccount, ...]):
        self.service = service
        self.accounts = accounts
        self.services: list[str] = []
        self.notes: list[str] = []

    def saw(self, text: str, where: str) -> None:
        found = service_of(text)
        if found is not None:
            self.services.append(f"{found.name}: {where} {text} ({found.source})")

    def named_values(self, value: str) -> str:
        """`{{name}}` replaced by the named value's plain value where the estate has it (secrets never are)."""
        def sub(m: re.Match[str]) -> str:
            key = m.group(1).strip().lower()
            if not key:
                return m.group(0)
            nv = next((n for n in self.service.named_values if key in (n.name.lower(), n.display_name.lower())), None)
            return nv.value if nv is not None and nv.value and not nv.secret else m.group(0)

        return _NAMED_VALUE.sub(sub, value) if "{{" in value else value

    def host_reason(self, url: str) -> str | None:
        host, shown, path = _split(url)
        if not host:
            return None
        for pattern, what in LLM_HOSTS:
            if pattern.search(host):
                return f"{shown} is {what}"
        for pattern, what in AI_SERVICE_HOSTS:
            if pattern.search(host):
                if _inference_path(path):
                    return f"{shown} is {what} and {path} is a model-inference path"
                self.notes.append(f"{shown} is {what}, which serves non-LLM AI services too, and its path "
                                  f"({path or '/'}) is not model inference: the host alone does not decide")
                return None
        if path.rstrip("/").lower().endswith("/openai"):
            return f"{url} ends in /openai (Azure OpenAI-style path)"
        if LLM_PATHS.search(path):
            return f"{url} is an OpenAI-style inference path"
        return None

    def account_reason(self, account: AiAccount, path: str, shown: str) -> str | None:
        """An account's kind decides (OpenAI), or decides against (Translator ...), or leaves it to the path."""
        kind = account.kind.lower()
        label = f"{shown} is the endpoint of account '{account.name}' (kind {account.kind or 'unknown'})"
        if kind in NON_LLM_KINDS:
            self.services.append(f"{NON_LLM_KINDS[kind]}: account '{account.name}' is of kind {account.kind} "
                                 "(https://learn.microsoft.com/azure/ai-services/create-account-bicep)")
            return None
        if kind in LLM_ONLY_KINDS:
            return label
        if _inference_path(path):
            return f"{label} and {path} is a model-inference path"
        if not kind or kind.startswith("{") or kind in MULTI_SERVICE_KINDS:
            self.notes.append(f"{label}, which serves non-LLM AI services too; the path ({path or '/'}) does not "
                              "say it is model inference")
        return None

    def url_reason(self, url: str) -> str | None:
        """Why a URL (named values resolved) is an LLM endpoint: a declared account's endpoint, or a known host
        with an inference path. Records the non-LLM services it names."""
        resolved = self.named_values(url or "")
        via = f" (named value {url.strip()})" if resolved != (url or "") else ""
        host, _shown, path = _split(resolved)
        self.saw(resolved, "URL")
        for account in self.accounts:
            if host and host == hostname(account.endpoint):
                shown = account.endpoint.split("://", 1)[-1].split("/", 1)[0]  # as written: placeholders keep case
                why = self.account_reason(account, path, shown)
                return f"{why}{via}" if why else None
        why = self.host_reason(resolved)
        return f"{why}{via}" if why else None

    def backend_reasons(self, backend_id: str, seen: set[str]) -> list[str]:
        name = _entity_name(self.named_values(backend_id))
        if name.lower() in seen:
            return []
        seen.add(name.lower())
        backend = next((b for b in self.service.backends if b.name.lower() == name.lower()), None)
        if backend is None:
            return []
        reasons = []
        why = self.url_reason(backend.url)
        if why:
            reasons.append(f"backend '{backend.name}': {why}")
        elif "microsoft.cognitiveservices/accounts" in backend.resource_id.lower():
            account = next((a for a in self.accounts if a.resource_id.lower() == backend.resource_id.lower()), None)
            if account is not None:
                why = self.account_reason(account, _split(backend.url)[2], account.name)
                if why:
                    reasons.append(f"backend '{backend.name}': {why}")
        members = [r for m in backend.pool_members for r in self.backend_reasons(m, seen)]
        reasons.extend(f"pool '{backend.name}' member {r}" for r in members)
        return reasons

    def expression_reasons(self, expression: str) -> list[str]:
        """A policy expression `@(...)` choosing a backend: its string literals that are LLM hosts or backends."""
        reasons = []
        for literal in dict.fromkeys(_CS_LITERAL.findall(expression)):
            why = self.url_reason(literal) if "." in literal else None
            if why:
                reasons.append(f"expression literal \"{literal}\": {why}")
            elif any(b.name.lower() == literal.lower() for b in self.service.backends):
                reasons.extend(self.backend_reasons(literal, set()))
        return reasons

    def policy_reasons(self, nodes: list[PolicyNode]) -> list[str]:
        reasons: list[str] = []
        for node in nodes:
            if node.tag == "authentication-managed-identity":
                resource = (node.get("resource") or "").strip().rstrip("/").lower()
                if resource in AI_AUDIENCES:
                    self.notes.append(f"a managed-identity token for {resource} (line {node.origin.line}) is accepted "
                                      "by every Azure AI service: the audience alone does not decide")
            elif node.tag == "rewrite-uri":
                reasons.extend(self.rewrite_reasons(node))
            elif node.tag == "set-header" and (node.get("name") or "").lower() == TOOLBOX_HEADER:
                value = " ".join(c.text for c in node.children if c.tag == "value")
                if "toolbox" in value.lower():
                    self.services.append(f"an MCP server: the {node.get('name')} header asks for {value.strip()} "
                                         f"(line {node.origin.line}), a Foundry Toolbox MCP endpoint")
            elif node.tag == "set-backend-service":
                reasons.extend(self.backend_service_reasons(nodes, node))
            elif node.tag.startswith(LLM_POLICY_PREFIXES):
                reasons.append(f"uses the <{node.tag}> policy (line {node.origin.line})")
        return reasons

    def rewrite_reasons(self, node: PolicyNode) -> list[str]:
        """The path a `rewrite-uri` forwards to, literal or in an expression's literals."""
        template = node.get("template") or ""
        paths = _CS_LITERAL.findall(template) if template.startswith("@") else [template]
        out = []
        for path in paths:
            self.saw(path, f"rewrite-uri (line {node.origin.line}) forwards to")
            if path.startswith("/") and LLM_PATHS.search(path.split("?", 1)[0]):
                out.append(f"rewrite-uri (line {node.origin.line}) forwards to {path}, a model-inference path")
        return out[:1]

    def backend_service_reasons(self, nodes: list[PolicyNode], node: PolicyNode) -> list[str]:
        reasons: list[str] = []
        for attr in ("backend-id", "base-url"):
            value = (node.get(attr) or "").strip()
            if value.startswith("@"):
                found = self.expression_reasons(value)
                if not found:  # the value is picked from variables: their literals name the candidates
                    found = [f"chosen from variables set in the policy: {r}" for r in
                             self.expression_reasons(_variable_sources(nodes, value))]
            elif attr == "backend-id":
                found = self.backend_reasons(value, set()) if value else []
            else:
                why = self.url_reason(value)
                found = [why] if why else []
            if len(found) > 2:
                found = [*found[:2], f"and {len(found) - 2} more like them"]
            reasons.extend(f"set-backend-service {attr} (line {node.origin.line}): {r}" for r in found)
        return reasons

    def only_llm_backends(self) -> list[str]:
        """An API with no service URL and no policy of its own that the estate holds (a linked policy is not
        read) reaches a backend that a policy picks; when every backend of its service is an LLM endpoint, so is
        its."""
        singles = [b for b in self.service.backends if b.backend_type != "pool"]
        if not singles or not all(self.url_reason(b.url) for b in singles):
            return []
        names = ", ".join(b.name for b in singles[:3]) + (" …" if len(singles) > 3 else "")
        return [f"no service URL or readable policy of its own, and every backend of the service is an LLM "
                f"endpoint ({names})"]


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
    `set-backend-service` expressions, named values the estate resolves, declared accounts' endpoints and kinds,
    forwarded paths, LLM policies, OpenAI-style operations. `accounts`: the estate's accounts.
    `facts`: node facts the API's effective resolution already found (see `FragmentResolver`).
    """
    service = service.scoped(api.workspace)  # a workspace API sees its workspace's backends and named values
    c = _Classifier(service, accounts)
    reasons: list[str] = []
    why = c.url_reason(api.service_url)
    if why:
        reasons.append(f"service URL: {why}")
    nodes = _own_nodes(service, api, facts)
    reasons.extend(c.policy_reasons(nodes))
    paths = [op.url_template for op in api.operations if op.url_template] + list(api.spec_paths)
    llm_paths = sorted({p for p in paths if LLM_PATHS.search(p)})
    if llm_paths:
        shown = ", ".join(llm_paths[:3]) + (" …" if len(llm_paths) > 3 else "")
        reasons.append(f"OpenAI-style operations: {shown}")
    else:
        for p in dict.fromkeys(paths):
            c.saw(p, "operation")
    if api.api_type.lower() in ("openai", "azureopenai", "llm"):
        reasons.append(f"API type is '{api.api_type}'")
    elif api.api_type.lower() in NON_LLM_API_TYPES:
        c.services.append(f"{NON_LLM_API_TYPES[api.api_type.lower()]}: API type is '{api.api_type}' "
                          "(https://learn.microsoft.com/azure/api-management/mcp-server-overview)")
    readable = [p for p in (api.policy, *(o.policy for o in api.operations)) if p is not None and p.document is not None]
    if not reasons and not api.service_url and not readable:  # a policy the source could not know reads as none
        reasons.extend(c.only_llm_backends())
    reasons = list(dict.fromkeys(reasons))
    services = tuple(dict.fromkeys(c.services))
    if reasons:
        decided = tuple(reasons)
    else:
        head = (f"calls {services[0].split(':', 1)[0]}, not model inference",) if services else \
            ("no LLM backend, policy or operation found",)
        decided = head + services + tuple(dict.fromkeys(c.notes))
    if matches(exclude, service.name, api.name):
        return LlmVerdict(False, ("excluded by configuration (llm_apis.exclude)", *reasons), True, services)
    if matches(include, service.name, api.name):
        return LlmVerdict(True, ("included by configuration (llm_apis.include)", *reasons), True, services)
    return LlmVerdict(bool(reasons), decided, services=services)
