"""Read usage live: the generated KQL through LogsQueryClient, platform tokens through the metrics API.

Every query or read that fails becomes a gap (AU001) naming the resource and the role that would fix it;
partial results are kept and reported as partial.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..context import build_context
from ..estate import Estate
from .files import UsageFileError, row_from_mapping
from .kql import PLATFORM_METRICS, build_queries
from .model import PLATFORM, UsageData, UsageRow

if TYPE_CHECKING:
    from ..config import Settings
    from ..sources.live import LiveCollector

LOGS_ENDPOINTS = {
    "AzureCloud": "https://api.loganalytics.io",
    "AzureUSGovernment": "https://api.loganalytics.us",
    "AzureChinaCloud": "https://api.loganalytics.azure.cn",
}
LOGS_READ = ("Log Analytics Reader on the workspace behind {target} "
             "(Microsoft.OperationalInsights/workspaces/query/read), or Monitoring Reader on the resource")
METRICS_READ = "Monitoring Reader on the Azure OpenAI account (Microsoft.Insights/metrics/read)"


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


def _logs_client(collector: LiveCollector, endpoint: str):
    from azure.monitor.query import LogsQueryClient

    kw = {k: v for k, v in collector.options.client_kwargs.items() if k != "base_url"}
    counting = collector.counting_policy(paced=False)  # Log Analytics has its own limits, no ARM header
    cloud = collector.options.cloud
    audience = LOGS_ENDPOINTS.get(cloud, LOGS_ENDPOINTS["AzureCloud"])  # the token scope, even when tests redirect
    return LogsQueryClient(collector.credential, endpoint=endpoint, audience=audience,
                           per_retry_policies=[counting], **kw)


def read_gateway_usage(collector: LiveCollector, estate: Estate, settings: Settings, start: dt.date,
                       end: dt.date, endpoint: str) -> UsageData:
    from azure.monitor.query import LogsQueryStatus

    ctx = build_context(estate, settings)
    client = _logs_client(collector, endpoint)
    rows: list[UsageRow] = []
    for query in build_queries(ctx, start, end):
        if not query.target:
            collector.gap(f"service/{query.service}", f"usage not read: {query.title} has no Application Insights "
                          "resource to query (the logger has no resourceId)", None,
                          "an Application Insights logger with a resourceId")
            continue
        needs = LOGS_READ.format(target=query.target)
        collector.note(f"querying {query.title}")
        try:
            result = client.query_resource(query.target, query.text, timespan=_timespan(start, end),
                                           server_timeout=600)
        except Exception as exc:
            collector.gap(query.target, f"usage query failed: {query.title}", exc, needs)
            continue
        try:
            if result.status == LogsQueryStatus.SUCCESS:
                rows += _table_rows(result.tables, query.target)
            else:  # PARTIAL: keep what came back, report what did not
                rows += _table_rows(result.partial_data, query.target)
                error = getattr(result, "partial_error", None)
                collector.gap(query.target, f"usage query returned partial results: {query.title}: "
                              f"{getattr(error, 'message', error)}", None, needs)
        except UsageFileError as exc:
            collector.gap(query.target, f"usage query returned rows the audit cannot read: {exc}", None, None)
    return UsageData(tuple(rows), (start, end), "live")


def read_platform_usage(collector: LiveCollector, estate: Estate, start: dt.date, end: dt.date) -> UsageData:
    from azure.mgmt.monitor import MonitorManagementClient

    first, last = _timespan(start, end)
    rows: list[UsageRow] = []
    clients: dict[str, Any] = {}  # one client (one connection pool) per subscription, not per account
    for account in estate.accounts:
        sub = account.resource_id.split("/")[2] if account.resource_id.count("/") > 2 else ""
        if sub not in clients:
            clients[sub] = MonitorManagementClient(collector.credential, sub, **collector.client_kwargs())
        monitor = clients[sub]
        collector.note(f"reading platform token metrics of {account.name}")
        response = collector.read(account.resource_id, METRICS_READ, lambda m=monitor, a=account: m.metrics.list(
            a.resource_id,
            timespan=f"{first.isoformat()}/{last.isoformat()}",
            interval=dt.timedelta(days=1),
            metricnames=",".join(PLATFORM_METRICS),
            aggregation="Total",
            filter="ModelDeploymentName eq '*' and ModelName eq '*' and ModelVersion eq '*'",
        ), None)
        if response is None:
            continue
        totals: dict[tuple[str, str, str, dt.date], dict[str, int]] = defaultdict(dict)
        for metric in response.value or []:
            name = metric.name.value if metric.name else ""
            column = "input_tokens" if name == "InputTokens" else "output_tokens" if name == "OutputTokens" else ""
            if not column:
                continue
            for series in metric.timeseries or []:
                meta = {(m.name.value or "").lower(): m.value or "" for m in series.metadatavalues or []}
                for point in series.data or []:
                    if not point.total:
                        continue
                    key = (meta.get("modeldeploymentname", ""), meta.get("modelname", ""),
                           meta.get("modelversion", ""), point.time_stamp.date())
                    totals[key][column] = totals[key].get(column, 0) + round(point.total)
        for (deployment, model, version, day), t in sorted(totals.items(), key=lambda kv: kv[0][3]):
            rows.append(UsageRow(day=day, source=PLATFORM, model=model, model_version=version, deployment=deployment,
                                 region=account.location, account=account.name, **t))
    return UsageData(tuple(rows), (start, end), "live")
