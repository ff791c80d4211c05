"""Read usage live: the generated KQL through LogsQueryClient, platform tokens through the metrics API, the
billed cost through Cost Management. It reads; the scoring (usage/score.py) prices. Which APIs to query and
which accounts stand behind them come in resolved (`UsageScope`): this module resolves nothing itself.

Every query or read that fails becomes a gap (AU001) naming the resource and the role that would fix it;
partial results are kept and reported as partial. A resource-context query without table access answers
200 with no rows (https://learn.microsoft.com/azure/azure-monitor/logs/api/azure-resource-queries, "Table access
and RBAC"): an empty gateway result while the platform metrics show
traffic on the accounts behind those APIs is a gap naming the likely missing access, never zero usage.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from ..estate import Estate
from .billed import read_billed_cost
from .files import UsageFileError, row_from_mapping
from .kql import PLATFORM_FILTER, PLATFORM_METRICS, PLATFORM_TOP, UsageQuery, build_queries
from .model import PLATFORM, UsageData, UsageRow
from .reader import LiveReader

if TYPE_CHECKING:
    from .phase import UsageScope

LOGS_ENDPOINTS = {
    "AzureCloud": "https://api.loganalytics.io",
    "AzureUSGovernment": "https://api.loganalytics.us",
    "AzureChinaCloud": "https://api.loganalytics.azure.cn",
}
LOGS_READ = ("Log Analytics Reader on the workspace behind {target} "
             "(Microsoft.OperationalInsights/workspaces/query/read), or Monitoring Reader on the resource")
TABLE_READ = ("read access to the {tables} table(s) in the workspace behind {target} (Log Analytics Reader, or "
              "table-level RBAC that includes them): a resource-context query without it returns 200 with no rows")
METRICS_READ = "Monitoring Reader on the Azure OpenAI account (Microsoft.Insights/metrics/read)"
TABLES = {"gateway-metrics": "AppMetrics", "gateway-llm-log": "ApiManagementGatewayLlmLog, ApiManagementGatewayLogs"}


def _timespan(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    utc = dt.timezone.utc
    return (dt.datetime.combine(start, dt.time(), utc), dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), utc))


def _table_rows(tables: Any, where: str) -> list[UsageRow]:
    rows = []
    for table in tables or []:
        names = list(table.columns)
        for i, raw in enumerate(table.rows):
            rows.append(row_from_mapping(dict(zip(names, list(raw), strict=False)), f"{where}: row {i}"))
    return rows


def _logs_client(collector: LiveReader, endpoint: str):
    from azure.monitor.query import LogsQueryClient

    kw = {k: v for k, v in collector.options.client_kwargs.items() if k != "base_url"}
    counting = collector.counting_policy(paced=False)  # Log Analytics has its own limits, no ARM header
    cloud = collector.options.cloud
    audience = LOGS_ENDPOINTS.get(cloud, LOGS_ENDPOINTS["AzureCloud"])  # the token scope, even when tests redirect
    return LogsQueryClient(collector.credential, endpoint=endpoint, audience=audience,
                           per_retry_policies=[counting], **kw)


def _run_query(collector: LiveReader, client: Any, query: UsageQuery, start: dt.date, end: dt.date) -> list[UsageRow]:
    from azure.monitor.query import LogsQueryStatus

    needs = LOGS_READ.format(target=query.target)
    collector.note(f"querying {query.title}")
    try:
        result = client.query_resource(query.target, query.text, timespan=_timespan(start, end), server_timeout=600)
    except Exception as exc:
        collector.gap(query.target, f"usage query failed: {query.title}", exc, needs)
        return []
    try:
        if result.status == LogsQueryStatus.SUCCESS:
            return _table_rows(result.tables, query.target)
        rows = _table_rows(result.partial_data, query.target)  # PARTIAL: keep what came back, report what did not
        error = getattr(result, "partial_error", None)
        collector.gap(query.target, f"usage query returned partial results: {query.title}: "
                      f"{getattr(error, 'message', error)}", None, needs)
        return rows
    except UsageFileError as exc:
        collector.gap(query.target, f"usage query returned rows the audit cannot read: {exc}", None, None)
        return []


def read_gateway_usage(collector: LiveReader, estate: Estate, scope: UsageScope, start: dt.date,
                       end: dt.date, endpoint: str) -> tuple[UsageData, list[tuple[UsageQuery, int]]]:
    """The gateway rows, and how many rows each query returned (to tell silent emptiness from no traffic)."""
    client = _logs_client(collector, endpoint)
    rows: list[UsageRow] = []
    answered: list[tuple[UsageQuery, int]] = []
    for query in build_queries(estate, scope.llm_apis, start, end):
        if not query.target:
            collector.gap(f"service/{query.service}", f"usage not read: {query.title} has no Application Insights "
                          "resource to query (the logger has no resourceId)", None,
                          "an Application Insights logger with a resourceId")
            continue
        got = _run_query(collector, client, query, start, end)
        rows += got
        answered.append((query, len(got)))
    return UsageData(tuple(rows), (start, end), "live: Log Analytics"), answered


def _metric_series(response: Any) -> Iterable[tuple[str, dict[str, str], Any]]:
    for metric in response.value or []:
        name = metric.name.value if metric.name else ""
        for series in metric.timeseries or []:
            meta = {(m.name.value or "").lower(): m.value or "" for m in series.metadatavalues or []}
            yield name, meta, series


def read_platform_usage(collector: LiveReader, estate: Estate, start: dt.date, end: dt.date) -> UsageData:
    from azure.mgmt.monitor import MonitorManagementClient

    first, last = _timespan(start, end)
    rows: list[UsageRow] = []
    # One client (one connection pool) for every account: the metrics read is `GET /{resourceUri}/providers/
    # Microsoft.Insights/metrics` (azure-mgmt-monitor 2021-05-01 `build_list_request`), whose URL names no
    # subscription, so the client's subscription id (required, only None is refused) is never sent.
    monitor = MonitorManagementClient(collector.credential, "", **collector.client_kwargs())  # builds no request
    for account in estate.accounts:
        collector.note(f"reading platform token metrics of {account.name}")
        response = collector.read(account.resource_id, METRICS_READ, partial(
            monitor.metrics.list,
            account.resource_id,
            timespan=f"{first.isoformat()}/{last.isoformat()}",
            interval=dt.timedelta(days=1),
            metricnames=",".join(PLATFORM_METRICS),
            aggregation="Total",
            filter=PLATFORM_FILTER,
            top=PLATFORM_TOP,
        ), None)
        if response is None:
            continue
        per_metric: dict[str, int] = defaultdict(int)
        totals: dict[tuple[str, str, str, dt.date], dict[str, int]] = defaultdict(dict)
        for name, meta, series in _metric_series(response):
            column = "input_tokens" if name == "InputTokens" else "output_tokens" if name == "OutputTokens" else ""
            if not column:
                continue
            per_metric[name] += 1
            for point in series.data or []:
                if not point.total:
                    continue
                key = (meta.get("modeldeploymentname", ""), meta.get("modelname", ""),
                       meta.get("modelversion", ""), point.time_stamp.date())
                totals[key][column] = totals[key].get(column, 0) + round(point.total)
        for name, count in per_metric.items():
            if count >= PLATFORM_TOP:
                collector.gap(account.resource_id, f"platform metric {name} of {account.name} returned {count} series, "
                              f"the most one read asks for: the platform total may be cut", None, METRICS_READ)
        for (deployment, model, version, day), t in sorted(totals.items(), key=lambda kv: (kv[0][3], kv[0][:3])):
            rows.append(UsageRow(day=day, source=PLATFORM, model=model, model_version=version, deployment=deployment,
                                 region=account.location, account=account.name,
                                 **t))  # type: ignore[arg-type]  # t: the token columns, by UsageRow's field names
    return UsageData(tuple(rows), (start, end), "live: Azure Monitor metrics")


def silent_gaps(collector: LiveReader, estate: Estate, scope: UsageScope, answered: list[tuple[UsageQuery, int]],
                platform: UsageData) -> None:
    """A query that returned nothing while the accounts behind its APIs served tokens: missing table access."""
    served: dict[str, int] = defaultdict(int)
    by_name = {a.name.lower(): a.resource_id.lower() for a in estate.accounts}
    for row in platform.rows:
        served[by_name.get(row.account.lower(), row.account.lower())] += row.tokens
    for query, count in answered:
        if count:
            continue
        behind: set[str] = set()
        for view, accounts in zip(scope.llm_apis, scope.accounts, strict=True):
            if view.service.name == query.service and view.api.name in query.apis:
                behind |= accounts
        tokens = sum(served.get(a, 0) for a in behind)
        if tokens:
            collector.gap(query.target, f"{query.title} returned no rows while the platform metrics show "
                          f"{tokens:,} tokens served by the account(s) behind its APIs: the usage is unknown, not zero",
                          None, TABLE_READ.format(tables=TABLES.get(query.kind, "usage"), target=query.target))


def read_usage(collector: LiveReader, estate: Estate, scope: UsageScope, start: dt.date, end: dt.date,
               endpoint: str) -> UsageData:
    """Gateway rows, platform rows and billed cost of the window; every failed read is a gap on the collector."""
    gateway, answered = read_gateway_usage(collector, estate, scope, start, end, endpoint)
    platform = read_platform_usage(collector, estate, start, end)
    silent_gaps(collector, estate, scope, answered, platform)
    usage = UsageData(gateway.rows + platform.rows, (start, end), "live")
    if estate.accounts:
        usage = replace(usage, billed=read_billed_cost(collector, estate, start, end))
    return usage
