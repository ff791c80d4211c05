"""Decide which APIs are LLM APIs, and say why, so a person can check the call and override it."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..estate import Api, ApimService
from ..policy.tree import PolicyNode
from .effective import FragmentResolver

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
    for pattern, what in LLM_HOSTS:
        if pattern.search(host):
            return f"{host} is {what}"
    if parts.path.rstrip("/").lower().endswith("/openai"):
        return f"{url} ends in /openai (Azure OpenAI-style path)"
    return None


def _backend_reasons(service: ApimService, backend_id: str, seen: set[str]) -> list[str]:
    if backend_id in seen:
        return []
    seen.add(backend_id)
    backend = next((b for b in service.backends if b.name == backend_id), None)
    if backend is None:
        return []
    reasons = []
    why = _host_reason(backend.url)
    if why:
        reasons.append(f"backend '{backend_id}': {why}")
    if "Microsoft.CognitiveServices/accounts" in backend.resource_id:
        reasons.append(f"backend '{backend_id}' points at Cognitive Services account {backend.resource_id}")
    for member in backend.pool_members:
        reasons.extend(f"pool {backend_id} → {r}" for r in _backend_reasons(service, member, seen))
    return reasons


def _policy_reasons(service: ApimService, nodes: list[PolicyNode]) -> list[str]:
    reasons: list[str] = []
    for node in nodes:
        if node.tag == "set-backend-service":
            backend_id = node.get("backend-id")
            if backend_id:
                reasons.extend(_backend_reasons(service, backend_id, set()))
            why = _host_reason(node.get("base-url") or "")
            if why:
                reasons.append(f"set-backend-service base-url: {why}")
        elif node.tag.startswith(LLM_POLICY_PREFIXES):
            reasons.append(f"uses the <{node.tag}> policy (line {node.origin.line})")
    return reasons


def matches(patterns: tuple[str, ...], service: str, api: str) -> bool:
    return any(fnmatch.fnmatchcase(api, p) or fnmatch.fnmatchcase(f"{service}/{api}", p) for p in patterns)


def _own_nodes(service: ApimService, api: Api) -> list[PolicyNode]:
    """Statements of the API's and its operations' own policies (fragments expanded).

    Outer scopes are left out on purpose: a global token metric says nothing about what each API is.
    """
    fragments = FragmentResolver(service.fragments, api.workspace)
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
) -> LlmVerdict:
    reasons: list[str] = []
    why = _host_reason(api.service_url)
    if why:
        reasons.append(f"service URL: {why}")
    nodes = _own_nodes(service, api)
    reasons.extend(_policy_reasons(service, nodes))
    paths = [op.url_template for op in api.operations if op.url_template] + list(api.spec_paths)
    llm_paths = sorted({p for p in paths if LLM_PATHS.search(p)})
    if llm_paths:
        shown = ", ".join(llm_paths[:3]) + (" …" if len(llm_paths) > 3 else "")
        reasons.append(f"OpenAI-style operations: {shown}")
    if api.api_type.lower() in ("openai", "azureopenai", "llm"):
        reasons.append(f"API type is '{api.api_type}'")
    reasons = list(dict.fromkeys(reasons))
    if matches(exclude, service.name, api.name):
        return LlmVerdict(False, ("excluded by configuration (llm_apis.exclude)", *reasons), True)
    if matches(include, service.name, api.name):
        return LlmVerdict(True, ("included by configuration (llm_apis.include)", *reasons), True)
    return LlmVerdict(bool(reasons), tuple(reasons) or ("no LLM backend, policy or operation found",))
