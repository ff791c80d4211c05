"""The text of the usage queries, branch by branch: KQL literals, comments, the window and the platform metrics
read (issue 29).

KQL string literals: https://learn.microsoft.com/kusto/query/scalar-data-types/string
Metrics - List (GET {resource}/providers/Microsoft.Insights/metrics, 2021-05-01):
https://learn.microsoft.com/rest/api/monitor/metrics/list
"""

from __future__ import annotations

import datetime as dt
import shlex
import urllib.parse

from aoai_audit.estate import ApimService, Logger
from aoai_audit.usage.kql import (
    _comment,
    _MetricUse,
    _window,
    gateway_metrics_query,
    kql_string,
    metric_uses,
    platform_metrics_command,
    platform_metrics_url,
)
from conftest import audit

ACCOUNT = "/subscriptions/s/resourceGroups/rg 1/providers/Microsoft.CognitiveServices/accounts/aoai-eus"


def test_kql_string_escapes_backslash_quote_and_control_characters():
    assert kql_string('a\\b"c\nd\re\tf') == '"a\\\\b\\"c\\nd\\re\\tf"'
    assert kql_string("") == '""'


def test_a_comment_shows_control_characters_escaped():
    assert _comment("team\nx\r\x00\x7f\u2028ok") == "team\\x0ax\\x0d\\x00\\x7f\\x2028ok"


def test_the_window_ends_the_day_after_the_last():
    assert _window(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == (
        "let from_day = datetime(2026-11-01);\nlet to_day = datetime(2026-12-01);\n")


def test_platform_metrics_read_per_day_per_deployment_model_and_version():
    url = platform_metrics_url(ACCOUNT, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "management.azure.com")
    assert parts.path == ACCOUNT.replace(" ", "%20") + "/providers/Microsoft.Insights/metrics"
    assert dict(urllib.parse.parse_qsl(parts.query)) == {
        "api-version": "2021-05-01", "metricnames": "InputTokens,OutputTokens", "aggregation": "Total",
        "interval": "P1D", "timespan": "2026-11-01T00:00:00Z/2026-11-03T00:00:00Z",
        "$filter": "ModelDeploymentName eq '*' and ModelName eq '*' and ModelVersion eq '*'", "top": "5000"}
    assert shlex.split(platform_metrics_command(ACCOUNT, dt.date(2026, 11, 1), dt.date(2026, 11, 2))) == [
        "az", "rest", "--method", "get", "--url", url]


def _uses(tmp_path, registry, *dims: str):
    path = tmp_path / "chat.policy.xml"
    path.write_text('<policies><inbound><base /><set-backend-service base-url="https://contoso.openai.azure.com/openai" />'
                    "<llm-emit-token-metric>" + "".join(f'<dimension name="{d}" />' for d in dims)
                    + "</llm-emit-token-metric></inbound></policies>")
    (use,) = metric_uses(audit(str(path), registry, only=("TM001",)).ctx.llm_apis).values()
    return use


def test_the_query_reads_the_api_and_product_only_where_the_metric_carries_them(tmp_path, registry):
    bare = _uses(tmp_path, registry, "Subscription ID")
    assert (bare.has_api_dimension, bare.has_product_dimension, bare.apis) == (False, False, {"chat": "Subscription ID"})
    full = _uses(tmp_path, registry, "Subscription ID", "API ID", "Product ID")
    assert (full.has_api_dimension, full.has_product_dimension) == (True, True)
    day = dt.date(2026, 11, 1)
    assert 'tostring(Properties["API ID"])' not in gateway_metrics_query(ApimService("files"), bare, day, day).text
    text = gateway_metrics_query(ApimService("files"), full, day, day).text
    assert 'tostring(Properties["API ID"])' in text and 'tostring(Properties["Product ID"])' in text


def test_without_api_and_product_dimensions_both_columns_are_empty_strings(tmp_path, registry):
    day = dt.date(2026, 11, 1)
    bare = gateway_metrics_query(ApimService("files"), _uses(tmp_path, registry, "Subscription ID"), day, day).text
    assert '| extend api = "", product = ""\n' in bare
    full = gateway_metrics_query(ApimService("files"), _uses(tmp_path, registry, "API ID", "Product ID"), day, day).text
    assert '| extend api = tostring(Properties["API ID"]), product = tostring(Properties["Product ID"])\n' in full


def test_the_most_used_named_dimension_is_the_default_and_the_others_are_chosen_by_api():
    day = dt.date(2026, 11, 1)
    use = _MetricUse(["ns"], {"a": "", "b": "Team", "c": "Team", "d": "Dept"}, has_api_dimension=True)
    text = gateway_metrics_query(ApimService("s"), use, day, day).text
    assert '| extend dimension = case(api in~ ("d"), "Dept", api in~ ("a"), "", "Team")\n' in text
    assert ('| extend consumer = case(dimension == "Team", tostring(Properties["Team"]), '
            'dimension == "Dept", tostring(Properties["Dept"]), "")\n') in text
    # a tie between a named dimension and none: the named one is the default
    tie = gateway_metrics_query(ApimService("s"), _MetricUse(["ns"], {"a": "", "b": "Team"}), day, day)
    assert '| extend dimension = "Team"\n' in tie.text and tie.dimensions == ("Team",)
    none = gateway_metrics_query(ApimService("s"), _MetricUse(["ns"], {"a": ""}), day, day)
    assert '| extend consumer = ""\n' in none.text and none.dimensions == ()


def test_the_metrics_query_runs_against_the_first_application_insights_logger_with_a_resource():
    component = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/ai"
    service = ApimService("s", loggers=(Logger("la", "azureMonitor", "/subscriptions/s/x/la"),
                                        Logger("ai0", "applicationInsights"),
                                        Logger("ai", "ApplicationInsights", component)))
    use = _MetricUse(["ns"], {"a": "Team"})
    day = dt.date(2026, 11, 1)
    assert gateway_metrics_query(service, use, day, day).target == component
    assert gateway_metrics_query(ApimService("s", loggers=service.loggers[:2]), use, day, day).target == ""
