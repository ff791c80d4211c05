"""Usage files read branch by branch: column aliases, metrics REST bodies, deployments lists (issue 29).

The metrics body follows Azure Monitor's Metrics - List response (2021-05-01: value[].name.value, id,
timeseries[].metadatavalues[].name.value / value, data[].timeStamp / total):
https://learn.microsoft.com/rest/api/monitor/metrics/list
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from aoai_audit.usage.files import UsageFileError, load_usage_file
from aoai_audit.usage.model import PLATFORM

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-eus"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_aliases_and_a_portal_time_zone_suffix(tmp_path):
    path = write(tmp_path, "u.csv", "Date [UTC],Team,API,prompt_tokens,completion_tokens,ModelName,DeploymentName\n"
                                    "2026-11-01T00:00:00Z,research,chat,\"1,000\",250,gpt-4o,gpt-4o-prod\n")
    (row,) = load_usage_file(path).rows
    assert (row.day, row.consumer, row.api, row.input_tokens, row.output_tokens) == (
        dt.date(2026, 11, 1), "research", "chat", 1_000, 250)
    assert (row.model, row.deployment, row.gateway_source) == ("gpt-4o", "gpt-4o-prod", "llm-log")


def test_a_missing_consumer_column_is_none_and_an_empty_one_is_empty(tmp_path):
    without = load_usage_file(write(tmp_path, "a.csv", "day,total_tokens\n2026-11-01,5\n")).rows[0]
    empty = load_usage_file(write(tmp_path, "b.csv", "day,consumer,total_tokens\n2026-11-01,,5\n")).rows[0]
    assert without.consumer is None and empty.consumer == "" and without.gateway_source == "token-metrics"


@pytest.mark.parametrize(("text", "says"), [
    ("total_tokens\n5\n", "u.csv:2: no `day` column"),
    ("day,total_tokens\n2026-13-01,5\n", "u.csv:2: day must be a date"),
    ("day,total_tokens\n2026-11-01,-5\n", "u.csv:2: total_tokens must be a non-negative number"),
    ("day,total_tokens\n2026-11-01,lots\n", "u.csv:2: total_tokens must be a number"),
    ("day,source,total_tokens\n2026-11-01,cloud,5\n", "u.csv:2: source must be 'gateway' or 'platform'"),
    ("day,consumer\n2026-11-01,a\n", "u.csv:2: no token column"),
    ("day,gateway_source,total_tokens\n2026-11-01,guess,5\n", "u.csv:2: gateway_source must be"),
])
def test_a_bad_row_names_file_and_line(tmp_path, text, says):
    with pytest.raises(UsageFileError) as err:
        load_usage_file(write(tmp_path, "u.csv", text))
    assert str(err.value).startswith(str(tmp_path / "u.csv")) and says in str(err.value)


def _series(deployment, model, version, points):
    return {"metadatavalues": [{"name": {"value": "modeldeploymentname"}, "value": deployment},
                               {"name": {"value": "modelname"}, "value": model},
                               {"name": {"value": "modelversion"}, "value": version}],
            "data": [{"timeStamp": t, "total": v} for t, v in points]}


def test_metrics_body_becomes_platform_rows_per_deployment_and_day(tmp_path):
    body = {"timespan": "2026-11-01T00:00:00Z/2026-11-03T00:00:00Z", "resourceregion": "eastus", "value": [
        {"id": f"{ACCOUNT}/providers/Microsoft.Insights/metrics/InputTokens", "name": {"value": "InputTokens"},
         "timeseries": [_series("gpt-4o", "gpt-4o", "2024-11-20", [("2026-11-01T00:00:00Z", 300.0),
                                                                   ("2026-11-02T00:00:00Z", 0.0)]),
                        _series("mini", "gpt-4o-mini", "2024-07-18", [("2026-11-01T00:00:00Z", 50.0)])]},
        {"id": f"{ACCOUNT}/providers/Microsoft.Insights/metrics/OutputTokens", "name": {"value": "OutputTokens"},
         "timeseries": [_series("gpt-4o", "gpt-4o", "2024-11-20", [("2026-11-01T00:00:00Z", 70.0)])]},
        {"id": f"{ACCOUNT}/providers/Microsoft.Insights/metrics/ProcessedPromptTokens",
         "name": {"value": "ProcessedPromptTokens"}, "timeseries": [_series("x", "x", "1", [("2026-11-01", 9.0)])]},
    ]}
    rows = load_usage_file(write(tmp_path, "m.json", json.dumps(body))).rows
    assert [(r.source, r.account, r.deployment, r.model, r.model_version, r.region, r.day, r.input_tokens,
             r.output_tokens) for r in rows] == [
        (PLATFORM, "aoai-eus", "gpt-4o", "gpt-4o", "2024-11-20", "eastus", dt.date(2026, 11, 1), 300, 70),
        (PLATFORM, "aoai-eus", "mini", "gpt-4o-mini", "2024-07-18", "eastus", dt.date(2026, 11, 1), 50, 0),
    ]


def test_a_deployments_list_names_each_deployments_account_model_and_sku(tmp_path):
    body = {"value": [{"id": f"{ACCOUNT}/deployments/chat", "name": "chat", "sku": {"name": "GlobalStandard"},
                       "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}]}
    data = load_usage_file(write(tmp_path, "d.json", json.dumps(body)))
    (d,) = data.deployments
    assert (d.account, d.name, d.model, d.model_version, d.sku) == ("aoai-eus", "chat", "gpt-4o", "2024-11-20",
                                                                    "GlobalStandard")
    assert data.rows == ()


def test_a_log_analytics_response_and_a_rows_object_read_alike(tmp_path):
    la = {"tables": [{"name": "PrimaryResult", "columns": [{"name": "day"}, {"name": "consumer"},
                                                           {"name": "total_tokens"}],
                      "rows": [["2026-11-01", "a", 7]]}]}
    rows = {"rows": [{"day": "2026-11-01", "consumer": "a", "total_tokens": 7}]}
    assert load_usage_file(write(tmp_path, "la.json", json.dumps(la))).rows == \
        load_usage_file(write(tmp_path, "r.json", json.dumps(rows))).rows
    with pytest.raises(UsageFileError, match="rows\\[0\\] is not an object"):
        load_usage_file(write(tmp_path, "bad.json", '{"rows": [1]}'))


def test_a_value_column_is_the_consumer_and_a_timestamp_the_day(tmp_path):
    (row,) = load_usage_file(write(tmp_path, "v.csv", "timestamp,value,total_tokens\n2026-11-02 13:00,ops,9\n")).rows
    assert (row.day, row.consumer, row.total_tokens) == (dt.date(2026, 11, 2), "ops", 9)
