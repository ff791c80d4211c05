"""KQL built from the estate: the namespaces and dimensions the policies configure, aggregated on the server.

One gateway query per APIM service, covering every token-metric namespace its policies declare (AppMetrics
rows carry no namespace column to split them by). Each API's tokens are counted once, under that API's
consumer dimension (a custom Team/Caller dimension before the built-in Subscription ID), so the rows sum to
the metered total. Where the service also sends its LLM log, that query runs too: its rows carry the model
each API's calls were served by (the mix that prices the metric rows), and the scoring counts each call from
one source only (see score.py). The platform side is the Azure OpenAI account metrics, read through the Azure
Monitor metrics API (KQL cannot split them by deployment).

Every column a query returns is a column the usage file reader knows (docs/usage.md), so a portal export of
exactly what these queries return scores to the same money as a live run.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..analysis import (
    Dimension,
    consumer_dimensions,
    dimensions,
    norm_dimension,
    token_metrics,
    unknown_markers,
)
from ..diagnostics import sends_category, settings_on
from ..estate import CARRIES_DIAGNOSTIC_SETTINGS, ApimService, Estate
from ..gaps import unknown_for
from ..policy.tree import PolicyNode
from .model import LLM_LOG_SOURCE, TOKEN_METRICS_SOURCE

if TYPE_CHECKING:  # the views come in resolved: this module resolves nothing
    from ..resolve.views import ApiView

# Names of the token metrics the policies emit, as they appear in AppMetrics (see docs/usage.md). The cached
# and reasoning names are the preview categories of the current llm-emit-token-metric page
# (https://learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy); not verified against a live
# tenant, so the query sums whichever of them exist.
PROMPT, COMPLETION, TOTAL = "Prompt Tokens", "Completion Tokens", "Total Tokens"
CACHED = ("Cached Tokens", "Prompt Cached Tokens", "Cached Prompt Tokens")
REASONING = ("Reasoning Tokens", "Completion Reasoning Tokens")
PLATFORM_METRICS = ("InputTokens", "OutputTokens")
# Split of the platform metrics: only the "Models - Usage" metrics carry ModelName
# (https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-cognitiveservices-accounts-metrics).
PLATFORM_FILTER = "ModelDeploymentName eq '*' and ModelName eq '*' and ModelVersion eq '*'"
# The metrics API returns at most `top` series and `top` defaults to 10 when $filter is given
# (https://learn.microsoft.com/rest/api/monitor/metrics/list, parameter `top`; azure-rest-api-specs
# stable/2021-05-01/metrics_API.json). Ask for many; a response that fills it is reported as possibly cut.
PLATFORM_TOP = 5000
METRICS_API = "2021-05-01"
COGNITIVE_API = "2024-10-01"  # the api-version the live source reads deployments with
BUILTIN_PRIORITY = ("subscriptionid", "userid", "productid")


@dataclass(frozen=True)
class UsageQuery:
    kind: str  # "gateway-metrics" (AppMetrics), "gateway-llm-log" (resource logs)
    service: str
    target: str  # the resource to run it against: App Insights component or APIM service id
    text: str
    dimensions: tuple[str, ...]  # the consumer dimensions it reads
    title: str
    apis: tuple[str, ...] = ()  # the LLM APIs whose calls it should see (to tell "no rows" from "no access")


def kql_string(value: str) -> str:
    """A KQL string literal. Per the KQL string data type page (learn.microsoft.com/azure/kusto/query/
    scalar-data-types/string): backslash escapes the enclosing quote, tab, newline and itself; newline and
    carriage return may not appear raw inside a literal."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    return '"' + escaped + '"'


def _comment(value: str) -> str:
    """Text safe inside a `//` comment line: control characters (a newline ends the comment) are shown escaped."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", lambda m: f"\\x{ord(m[0]):02x}", value)


def _window(start: dt.date, end: dt.date) -> str:
    return (f"let from_day = datetime({start.isoformat()});\n"
            f"let to_day = datetime({(end + dt.timedelta(days=1)).isoformat()});\n")


def consumer_dimension(dims: list[Dimension]) -> Dimension | None:
    """The dimension that names the team: a custom one first (it is what finance asks for), then built-ins."""
    found = consumer_dimensions(dims)
    custom = [d for d in found if not d.builtin]
    if custom:
        return custom[0]
    for wanted in BUILTIN_PRIORITY:
        for d in found:
            if norm_dimension(d.name) == wanted:
                return d
    return None


@dataclass
class _MetricUse:
    namespaces: list[str]
    apis: dict[str, str]  # api name → consumer dimension name ("" when the metric has none)
    has_api_dimension: bool = False
    has_product_dimension: bool = False


def _token_metrics(views: Iterable[ApiView]) -> Iterator[tuple[ApiView, PolicyNode, list[Dimension]]]:
    """Every effective token metric of every LLM API, with its dimensions."""
    for view in views:
        for ep in view.effective:
            for metric, _path in token_metrics(ep.inbound):
                yield view, metric, dimensions(metric, ep.inbound)


def metric_uses(views: Iterable[ApiView]) -> dict[str, _MetricUse]:
    """Service → which consumer dimension each LLM API's token metric uses, over all its namespaces."""
    uses: dict[str, _MetricUse] = {}
    for view, metric, dims in _token_metrics(views):
        namespace = metric.get("namespace") or "API Management"
        use = uses.setdefault(view.service.name, _MetricUse([], {}))
        if namespace not in use.namespaces:
            use.namespaces.append(namespace)
        chosen = consumer_dimension(dims)
        use.apis.setdefault(view.api.name, chosen.name if chosen else "")
        names = {norm_dimension(d.name) for d in dims}
        use.has_api_dimension |= "apiid" in names
        use.has_product_dimension |= "productid" in names
    return uses


def dimension_markers(views: Iterable[ApiView]) -> dict[str, tuple[str, ...]]:
    """Dimension name → the fallback values its expressions supply (`GetValueOrDefault(h, "N/A")` → N/A)."""
    out: dict[str, set[str]] = defaultdict(set)
    for _view, _metric, dims in _token_metrics(views):
        for d in dims:
            out[d.name].update(unknown_markers(d.source))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _appinsights_logger(service: ApimService) -> str:
    for logger in service.loggers:
        if logger.logger_type.lower() == "applicationinsights" and logger.resource_id:
            return logger.resource_id
    return ""


def _in_list(names: Iterable[str]) -> str:
    return ", ".join(kql_string(n) for n in names)


def _service_filter(service: ApimService, sharing: tuple[str, ...]) -> str:
    """Where several APIM services send token metrics to one Application Insights component, each query keeps its
    own service's rows by the metric's default "Service ID" dimension ("In API Management, 5 of these are used for
    default dimensions including ... Region, Service ID, Service Name, Service Type":
    https://learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy, "Limits for custom metrics").
    Its value is matched as the service's name, its host (name.azure-api.net) or its resource id; without the
    filter every service's query would count every other service's tokens as its own."""
    if len(sharing) < 2:
        return ""
    name = kql_string(service.name)
    return (f"// the component also receives the token metrics of {_comment(', '.join(s for s in sharing if s != service.name))}"
            ": this service's rows by their Service ID\n"
            '| extend service_id = tostring(Properties["Service ID"])\n'
            f'| where service_id =~ {name} or service_id startswith {kql_string(service.name + ".")}'
            f' or service_id endswith {kql_string("/service/" + service.name)}\n')


def gateway_metrics_query(service: ApimService, use: _MetricUse, start: dt.date, end: dt.date,
                          sharing: tuple[str, ...] = ()) -> UsageQuery:
    by_dimension: dict[str, list[str]] = defaultdict(list)
    for api, dim in sorted(use.apis.items()):
        by_dimension[dim].append(api)
    ranked = sorted(by_dimension, key=lambda d: (d == "", -len(by_dimension[d]), d))  # named dimensions first
    default_dim = ranked[0]
    if use.has_api_dimension and len(ranked) > 1:
        cases = ", ".join(f"api in~ ({_in_list(by_dimension[d])}), {kql_string(d)}" for d in ranked[1:])
        dim_expr = f"case({cases}, {kql_string(default_dim)})"
    else:
        dim_expr = kql_string(default_dim)
    named = [d for d in ranked if d]
    if named:
        consumer_cases = ", ".join(f"dimension == {kql_string(d)}, tostring(Properties[{kql_string(d)}])"
                                   for d in named)
        consumer_expr = f'case({consumer_cases}, "")'
    else:
        consumer_expr = '""'
    api_expr = 'tostring(Properties["API ID"])' if use.has_api_dimension else '""'
    product_expr = 'tostring(Properties["Product ID"])' if use.has_product_dimension else '""'
    names = (PROMPT, COMPLETION, TOTAL, *CACHED, *REASONING)
    text = (
        f"// aoai-audit: gateway token metrics of APIM service '{_comment(service.name)}', "
        f"namespace(s) {_comment(', '.join(repr(n) for n in use.namespaces))}\n"
        "// one row per day, consumer and API, aggregated on the server; every token is counted once\n"
        + _window(start, end)
        + "AppMetrics\n"
        "| where TimeGenerated >= from_day and TimeGenerated < to_day\n"
        f"| where Name in ({_in_list(names)})\n"
        + _service_filter(service, sharing)
        + f"| extend api = {api_expr}, product = {product_expr}\n"
        f"| extend dimension = {dim_expr}\n"
        f"| extend consumer = {consumer_expr}\n"
        f"| summarize input_tokens = sumif(Sum, Name == {kql_string(PROMPT)}),"
        f" cached_input_tokens = sumif(Sum, Name in ({_in_list(CACHED)})),"
        f" output_tokens = sumif(Sum, Name == {kql_string(COMPLETION)}),"
        f" reasoning_tokens = sumif(Sum, Name in ({_in_list(REASONING)})),"
        f" total_tokens = sumif(Sum, Name == {kql_string(TOTAL)})\n"
        '    by day = format_datetime(startofday(TimeGenerated), "yyyy-MM-dd"), dimension, consumer, api, product\n'
        f'| extend source = "gateway", gateway_source = "{TOKEN_METRICS_SOURCE}", service = {kql_string(service.name)}\n'
        "| order by day asc, consumer asc"
    )
    return UsageQuery("gateway-metrics", service.name, _appinsights_logger(service), text, tuple(named),
                      f"Gateway token metrics · {service.name}", tuple(sorted(use.apis)))


def gateway_log_query(service: ApimService, start: dt.date, end: dt.date, apis: tuple[str, ...] = ()) -> UsageQuery:
    text = (
        f"// aoai-audit: gateway LLM log of APIM service '{_comment(service.name)}', attributed by APIM subscription\n"
        "// needs diagnostic settings sending GatewayLlmLogs and GatewayLogs to resource-specific tables\n"
        + _window(start, end)
        + "ApiManagementGatewayLlmLog\n"
        "| where TimeGenerated >= from_day and TimeGenerated < to_day\n"
        "// messages over 32 KB are logged in chunks: count each request once\n"
        "| summarize PromptTokens = max(PromptTokens), CompletionTokens = max(CompletionTokens),"
        " TotalTokens = max(TotalTokens), IsStream = max(toint(IsStreamCompletion)),"
        " TimeGenerated = min(TimeGenerated)\n"
        "    by CorrelationId, ModelName, DeploymentName, Region\n"
        "| join kind=leftouter (\n"
        "    ApiManagementGatewayLogs\n"
        "    | where TimeGenerated >= from_day - 1h and TimeGenerated < to_day + 1h\n"
        "    | summarize arg_max(TimeGenerated, ApiId, ProductId, ApimSubscriptionId) by CorrelationId\n"
        "    | project CorrelationId, ApiId, ProductId, ApimSubscriptionId\n"
        ") on CorrelationId\n"
        "| summarize input_tokens = sum(PromptTokens), output_tokens = sum(CompletionTokens),"
        " total_tokens = sum(TotalTokens), streamed_tokens = sumif(TotalTokens, IsStream == 1)\n"
        '    by day = format_datetime(startofday(TimeGenerated), "yyyy-MM-dd"), consumer = ApimSubscriptionId,'
        " api = ApiId, product = ProductId, model = ModelName, deployment = DeploymentName, region = Region\n"
        f'| extend source = "gateway", gateway_source = "{LLM_LOG_SOURCE}", dimension = "Subscription ID",'
        f" service = {kql_string(service.name)}\n"
        "| order by day asc, consumer asc"
    )
    return UsageQuery("gateway-llm-log", service.name, service.resource_id, text, ("Subscription ID",),
                      f"Gateway LLM log · {service.name} (attribution by APIM subscription)", apis)


def sends_llm_logs(estate: Estate, service: ApimService) -> bool:
    """GatewayLlmLogs reach a workspace in the resource-specific tables the LLM log query reads."""
    return any(ds.workspace_id and (ds.destination_type or "").lower() == "dedicated"
               and sends_category(ds, "GatewayLlmLogs") for ds in settings_on(estate, service.resource_id))


def may_log_llm(estate: Estate, service: ApimService) -> bool:
    """The service's LLM log could hold its calls: its diagnostic settings send it, or they are not known (the input
    carries none, or reading them failed). Known settings that send no GatewayLlmLogs mean the gateway kept no
    per-call record: an empty answer would be the truth, never an "unknown" gap, so the log is not queried."""
    if sends_llm_logs(estate, service):
        return True
    if CARRIES_DIAGNOSTIC_SETTINGS not in estate.carries:
        return True
    return bool(unknown_for(estate.gaps, service.resource_id, "diagnosticSettings"))


def build_queries(estate: Estate, llm_views: Iterable[ApiView], start: dt.date, end: dt.date) -> list[UsageQuery]:
    """Metrics queries where the policies emit token metrics; the LLM log where the service sends it (the served
    model of each call) or where it is the only gateway record."""
    views = tuple(llm_views)
    uses = metric_uses(views)
    component = {s.name: _appinsights_logger(s).lower() for s in estate.services}
    sinks: dict[str, list[str]] = defaultdict(list)  # Application Insights component → services metering into it
    for service in estate.services:
        if service.name in uses and component[service.name]:
            sinks[component[service.name]].append(service.name)
    queries = []
    for service in estate.services:
        use = uses.get(service.name)
        if use is not None:
            sharing = tuple(sinks.get(component[service.name], ()))
            queries.append(gateway_metrics_query(service, use, start, end, sharing))
        if (use is None and may_log_llm(estate, service)) or sends_llm_logs(estate, service):
            apis = tuple(sorted(v.api.name for v in views if v.service.name == service.name))
            queries.append(gateway_log_query(service, start, end, apis))
    return queries


def platform_metrics_url(account_id: str, start: dt.date, end: dt.date) -> str:
    """The metrics REST read the live run makes (GET {account}/providers/Microsoft.Insights/metrics)."""
    query = urllib.parse.urlencode({
        "api-version": METRICS_API,
        "metricnames": ",".join(PLATFORM_METRICS),
        "aggregation": "Total",
        "interval": "P1D",
        "timespan": f"{start.isoformat()}T00:00:00Z/{(end + dt.timedelta(days=1)).isoformat()}T00:00:00Z",
        "$filter": PLATFORM_FILTER,
        "top": str(PLATFORM_TOP),
    }, quote_via=urllib.parse.quote)
    return f"https://management.azure.com{urllib.parse.quote(account_id, safe='/')}/providers/Microsoft.Insights/metrics?{query}"


def deployments_command(account_id: str) -> str:
    """The account's deployments list (their SKU is the deployment type that prices a platform row)."""
    url = (f"https://management.azure.com{urllib.parse.quote(account_id, safe='/')}/deployments?"
           f"api-version={COGNITIVE_API}")
    return " ".join(["az", "rest", "--method", "get", "--url", shlex.quote(url)])


def platform_metrics_command(account_id: str, start: dt.date, end: dt.date) -> str:
    """The same platform read as `aoai-audit` makes, for a user who exports by hand. `az rest` sends the REST
    call as written, `top` included (without it the service cuts at 10 series), and prints the REST body,
    which `--usage` reads. Every argument is shell-quoted: names come from the estate."""
    return " ".join(["az", "rest", "--method", "get", "--url",
                     shlex.quote(platform_metrics_url(account_id, start, end))])
