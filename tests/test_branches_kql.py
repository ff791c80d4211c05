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

from aoai_audit.usage.kql import _comment, _window, kql_string, platform_metrics_command, platform_metrics_url

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
