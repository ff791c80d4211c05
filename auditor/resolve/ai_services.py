"""The Azure AI services that are not LLM inference, recognised by what the gateway forwards to.

The same Azure AI Services accounts and hosts (`*.cognitiveservices.azure.com`, `*.services.ai.azure.com`) and
the same managed-identity audiences serve token-billed model inference and services billed per call, page,
character or hour, which never stream and carry no tokens. An API that calls one of these is not an LLM API
(RULES.md, "LLM API"); each entry cites the Microsoft page whose REST path or host decides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AiService:
    name: str
    pattern: re.Pattern[str]  # searched in a URL, path or rewrite-uri template, lower-case
    source: str  # the Microsoft page that gives this path or host


def _p(expr: str) -> re.Pattern[str]:
    return re.compile(expr, re.I)


NON_LLM_SERVICES = (
    # POST {endpoint}/contentsafety/text:analyze, image:analyze, text:shieldPrompt
    AiService("Azure AI Content Safety", _p(r"(^|/)contentsafety(/|$)|text:(analyze|shieldprompt)|image:analyze"),
              "https://learn.microsoft.com/azure/ai-services/content-safety/quickstart-text"),
    # {resource}.cognitiveservices.azure.com/translator/text/v3.0/translate, api.cognitive.microsofttranslator.com
    AiService("Azure AI Translator", _p(r"(^|/)translator/text/|(^|/)translator/document|microsofttranslator\.com"),
              "https://learn.microsoft.com/azure/ai-services/translator/text-translation/reference/v3/reference"),
    # {endpoint}/documentintelligence/documentModels/{modelId}:analyze (formrecognizer/ before 2023-10-31)
    AiService("Azure AI Document Intelligence", _p(r"(^|/)(documentintelligence|formrecognizer)(/|$)|documentmodels/"),
              "https://learn.microsoft.com/azure/ai-services/document-intelligence/quickstarts/get-started-sdks-rest-api"),
    # {region}.stt.speech.microsoft.com, /speechtotext/, text to speech {region}.tts.speech.microsoft.com/cognitiveservices/v1
    AiService("Azure AI Speech", _p(r"(^|/)speechtotext(/|$)|\.(stt|tts)\.speech\.microsoft\.com|(^|/)cognitiveservices/v1(/|$|\?)"
                                    r"|(^|/)sts/v1\.0/issuetoken"),
              "https://learn.microsoft.com/azure/ai-services/speech-service/rest-speech-to-text"),
    # {endpoint}/computervision/imageanalysis:analyze, /vision/v3.2/analyze, /face/v1.0/detect
    AiService("Azure AI Vision", _p(r"(^|/)(computervision|vision/v\d|face/v\d)"),
              "https://learn.microsoft.com/azure/ai-services/computer-vision/how-to/call-analyze-image-40"),
    # {endpoint}/language/:analyze-text, /text/analytics/v3.1/
    AiService("Azure AI Language", _p(r"(^|/)language/(:analyze|analyze-|query-knowledgebases|:query)|(^|/)text/analytics/"),
              "https://learn.microsoft.com/azure/ai-services/language-service/concepts/use-asynchronously"),
    # {service}.search.windows.net/indexes/{index}/docs
    AiService("Azure AI Search", _p(r"\.search\.windows\.net|(^|/)indexes(/|\(|$)"),
              "https://learn.microsoft.com/rest/api/searchservice/"),
    # Foundry Agent Service: {endpoint}/api/projects/{project}/agents (token use is billed on the model deployment)
    AiService("an Azure AI Foundry agent endpoint", _p(r"(^|/)(agents|threads)(/|$)|(^|/)api/projects/[^/]+/?$"),
              "https://learn.microsoft.com/azure/ai-foundry/agents/quickstart"),
    # an MCP server (API Management MCP server, Foundry Toolbox MCP endpoint): tools, not model inference
    AiService("an MCP server", _p(r"(^|/)(mcp|sse)(/|$)|(^|/)toolbox(es)?(/|$)"),
              "https://learn.microsoft.com/azure/api-management/mcp-server-overview"),
)

# Account kinds (Microsoft.CognitiveServices/accounts `kind`) that serve one non-LLM service.
# https://learn.microsoft.com/azure/ai-services/create-account-bicep (kind values)
NON_LLM_KINDS = {
    "contentsafety": "Azure AI Content Safety",
    "texttranslation": "Azure AI Translator",
    "formrecognizer": "Azure AI Document Intelligence",
    "speechservices": "Azure AI Speech",
    "computervision": "Azure AI Vision",
    "face": "Azure AI Vision",
    "textanalytics": "Azure AI Language",
    "language": "Azure AI Language",
    "customvision.training": "Azure AI Vision",
    "customvision.prediction": "Azure AI Vision",
    "immersivereader": "Azure AI Immersive Reader",
}
# Kinds that serve model inference and other services: the path decides. OpenAI accounts serve only the
# Azure OpenAI API. https://learn.microsoft.com/azure/ai-foundry/openai/how-to/create-resource
LLM_ONLY_KINDS = ("openai",)
MULTI_SERVICE_KINDS = ("aiservices", "cognitiveservices")
# API types that are not model inference (`apiType` of an APIM API): MCP servers and A2A agents.
# https://learn.microsoft.com/azure/api-management/mcp-server-overview
NON_LLM_API_TYPES = {"mcp": "an MCP server", "a2a": "an A2A agent"}
# The Foundry Toolbox MCP endpoint is selected by this request header (Foundry-Features: Toolboxes=V1Preview).
TOOLBOX_HEADER = "foundry-features"


def service_of(text: str) -> AiService | None:
    """The non-LLM AI service a URL, path or template names, if any."""
    if not text:
        return None
    return next((s for s in NON_LLM_SERVICES if s.pattern.search(text)), None)
