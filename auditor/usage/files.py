"""Exported usage (CSV or JSON): what a user without query rights feeds back after running `aoai-audit kql`.

Columns are the ones the generated queries return, so a portal export loads as it is. Only `day` and a
token count are required; see docs/usage.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path
from typing import Any

from .model import (
    GATEWAY,
    LLM_LOG_SOURCE,
    PLATFORM,
    TOKEN_METRICS_SOURCE,
    AccountRef,
    DeploymentInfo,
    UsageData,
    UsageRow,
)

TEXT_COLUMNS = (
    "source", "dimension", "consumer", "service", "api", "product", "model", "model_version", "deployment",
    "deployment_type", "region", "account", "gateway_source",
)
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "total_tokens",
                 "streamed_tokens")
ALIASES = {"team": "consumer", "value": "consumer", "date": "day", "timestamp": "day", "modelname": "model",
           "deploymentname": "deployment", "prompt_tokens": "input_tokens", "completion_tokens": "output_tokens"}
MAX_BYTES = 256 * 1024 * 1024


class UsageFileError(Exception):
    """One line that names the file (and the line) and says what is wrong."""


def _key(name: str) -> str:
    # the Log Analytics portal's CSV export suffixes datetime columns with their time zone: "day [UTC]"
    name = name.strip().lstrip("\ufeff").strip()
    low = name.lower()
    for zone in ("[utc]", "[local time]"):  # a suffix test, not `\s*\[..\]\s*$` (quadratic in a run of spaces)
        if low.endswith(zone):
            name = name[: -len(zone)]
            break
    k = name.strip().lower().replace(" ", "_")
    return ALIASES.get(k, k)


# Usage values are range-checked on read, each with one line naming the file and row. A day outside these years
# is not usage of a service that launched in 2021 (and 9999-12-31 has no next day for the FOCUS writer); more
# than a quadrillion tokens on one row is not a day of anyone's traffic (and overflowed the money arithmetic).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
MAX_TOKENS = 10**15


def _day(value: Any, where: str) -> dt.date:
    text = str(value or "").strip()
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        raise UsageFileError(f"{where}: day must be a date like 2026-11-01, got {text[:40]!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageFileError(f"{where}: day {day.isoformat()} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
    return day


def _tokens(value: Any, where: str, column: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageFileError(f"{where}: {column} must be a number, got {type(value).__name__}")
    try:
        number = float(str(value).replace(",", "")) if not isinstance(value, (int, float)) else value
    except (ValueError, OverflowError):
        raise UsageFileError(f"{where}: {column} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(number) or number < 0:
        raise UsageFileError(f"{where}: {column} must be a non-negative number, got {str(value)[:40]!r}")
    if number > MAX_TOKENS:
        raise UsageFileError(f"{where}: {column} is {number:.3g} tokens, over {MAX_TOKENS:.0e} on one row; not usage")
    return round(number)


def row_from_mapping(raw: dict[str, Any], where: str) -> UsageRow:
    data = {_key(k): v for k, v in raw.items() if isinstance(k, str)}
    if "day" not in data:
        raise UsageFileError(f"{where}: no `day` column")
    text = {c: ("" if data.get(c) is None else str(data[c]).strip()) for c in TEXT_COLUMNS}
    source = text["source"].lower() or GATEWAY
    if source not in (GATEWAY, PLATFORM):
        raise UsageFileError(f"{where}: source must be 'gateway' or 'platform', got {source!r}")
    tokens = {c: _tokens(data.get(c), where, c) for c in TOKEN_COLUMNS}
    if not any(tokens[c] for c in ("input_tokens", "output_tokens", "total_tokens")) and not any(
        c in data for c in ("input_tokens", "output_tokens", "total_tokens")
    ):
        raise UsageFileError(f"{where}: no token column (input_tokens, output_tokens or total_tokens)")
    consumer = None if "consumer" not in data or data["consumer"] is None else text["consumer"]
    if source == GATEWAY and not text["gateway_source"]:  # files older than the column: the LLM log names a model
        text["gateway_source"] = LLM_LOG_SOURCE if (text["model"] or text["deployment"]) else TOKEN_METRICS_SOURCE
    if text["gateway_source"] not in ("", LLM_LOG_SOURCE, TOKEN_METRICS_SOURCE):
        raise UsageFileError(f"{where}: gateway_source must be {TOKEN_METRICS_SOURCE!r} or {LLM_LOG_SOURCE!r}, "
                             f"got {text['gateway_source']!r}")
    return UsageRow(
        day=_day(data["day"], where),
        source=source,
        dimension=text["dimension"],
        consumer=consumer,
        # the text and token columns are UsageRow's own fields, by name; each value was read as its field's type
        **{c: text[c] for c in TEXT_COLUMNS if c not in ("source", "dimension", "consumer")},  # type: ignore[arg-type]
        **tokens,  # type: ignore[arg-type]
    )


def _read_csv(text: str, path: str) -> list[UsageRow]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise UsageFileError(f"{path}:1: empty CSV (expected a header row)")
    return [row_from_mapping(row, f"{path}:{reader.line_num}") for row in reader]


def _metrics_rows(data: dict[str, Any], path: str) -> list[UsageRow]:
    """Platform rows from the Azure Monitor metrics REST body (2021-05-01 `Response`): per series (deployment,
    model, version) and day, InputTokens and OutputTokens; the account is named by each metric's id."""
    region = str(data.get("resourceregion") or "")
    totals: dict[tuple[str, str, str, str, dt.date], dict[str, int]] = {}
    ids: dict[str, str] = {}
    for i, metric in enumerate(data["value"]):
        where = f"{path}: value[{i}]"
        if not isinstance(metric, dict):
            raise UsageFileError(f"{where} is not an object")
        name = (metric.get("name") or {}).get("value") if isinstance(metric.get("name"), dict) else None
        column = {"InputTokens": "input_tokens", "OutputTokens": "output_tokens"}.get(str(name))
        if column is None:
            continue
        mid = str(metric.get("id") or "")
        account = mid.split("/providers/Microsoft.Insights/metrics", 1)[0].rstrip("/").rsplit("/", 1)[-1] if \
            "/accounts/" in mid.lower() else ""
        if _account_id(mid):
            ids[account] = _account_id(mid)
        for j, series in enumerate(_list(metric.get("timeseries"), f"{where}.timeseries")):
            if not isinstance(series, dict):
                raise UsageFileError(f"{where}.timeseries[{j}] is {_kind(series)}, expected an object")
            meta = {str((m.get("name") or {}).get("value", "")).lower(): str(m.get("value") or "")
                    for m in _list(series.get("metadatavalues"), f"{where}.timeseries[{j}].metadatavalues")
                    if isinstance(m, dict) and isinstance(m.get("name"), dict)}
            for k, point in enumerate(_list(series.get("data"), f"{where}.timeseries[{j}].data")):
                at = f"{where}.timeseries[{j}].data[{k}]"
                if not isinstance(point, dict) or not point.get("total"):
                    continue
                day = _day(point.get("timeStamp"), at)
                key = (account, meta.get("modeldeploymentname", ""), meta.get("modelname", ""),
                       meta.get("modelversion", ""), day)
                acc = totals.setdefault(key, {})
                acc[column] = acc.get(column, 0) + _tokens(point.get("total"), at, "total")
    return MetricRows([UsageRow(day=day, source=PLATFORM, account=account, deployment=dep, model=model,
                                model_version=ver, region=region, **t)  # type: ignore[arg-type]  # t: the token columns, by field name
                       for (account, dep, model, ver, day), t in sorted(totals.items(),
                                                                        key=lambda kv: (kv[0][4], kv[0][:4]))],
                      ids)


class MetricRows(list):
    """Platform rows read from a metrics body, with the account ids its metric ids name."""

    def __init__(self, rows: list[UsageRow], ids: dict[str, str]) -> None:
        super().__init__(rows)
        self.ids = ids


def _account_id(resource_id: str) -> str:
    """The account's ARM id out of a metric's or deployment's id ('…/accounts/NAME/providers/…', '…/deployments/…'):
    https://learn.microsoft.com/rest/api/monitor/metrics/list (Metric.id) and
    https://learn.microsoft.com/rest/api/aiservices/accountmanagement/deployments/list (Deployment.id)."""
    parts = resource_id.strip().split("/")
    shape = [p.lower() for p in parts[:8]]
    if len(parts) < 9 or shape[:2] != ["", "subscriptions"] or shape[3] != "resourcegroups" or shape[5:8] != [
            "providers", "microsoft.cognitiveservices", "accounts"] or not all(parts[i] for i in (2, 4, 8)):
        return ""
    return "/".join(parts[:9])


def _list(value: Any, where: str) -> list[Any]:
    """A list the REST body must hold there (missing or null: none); anything else is the file's fault."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageFileError(f"{where} is {_kind(value)}, expected a list")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _deployments(items: list[dict[str, Any]], path: str) -> DeploymentList:
    out = []
    for i, d in enumerate(items):
        sku = d.get("sku")
        if sku is not None and not isinstance(sku, dict):
            raise UsageFileError(f"{path}: value[{i}].sku is {_kind(sku)}, expected an object")
        model = ((d.get("properties") or {}).get("model") or {}) if isinstance(d.get("properties"), dict) else {}
        if not isinstance(model, dict):
            raise UsageFileError(f"{path}: value[{i}].properties.model is not an object")
        account = str(d.get("id", "")).split("/deployments/")[0].rstrip("/").rsplit("/", 1)[-1]
        out.append(DeploymentInfo(account, str(d.get("name", "")), str(model.get("name", "")),
                                  str(model.get("version", "")), str((d.get("sku") or {}).get("name", "")),
                                  str(d.get("id", ""))))
    return DeploymentList(out)


class DeploymentList(list):
    """Deployments read from a file, not usage rows (an exported deployments list)."""


def _read_json(text: str, path: str) -> list[UsageRow]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # syntax, nesting, a number past Python's digit limit
        from ..json_input import describe, where

        problem, line = describe(exc, text)
        raise UsageFileError(f"{where(path, line)}: {problem}") from None
    if isinstance(data, dict) and isinstance(data.get("value"), list) and "timespan" not in data and all(
            isinstance(d, dict) and "/deployments/" in str(d.get("id", "")).lower() for d in data["value"]):
        return _deployments(data["value"], path)  # `az rest` of an account's deployments list
    if isinstance(data, dict) and isinstance(data.get("value"), list) and "timespan" in data:
        return _metrics_rows(data, path)  # `az rest` / `az monitor metrics list` output: the metrics REST body
    if isinstance(data, dict) and isinstance(data.get("tables"), list):  # a Log Analytics REST response
        data = _table_rows(data["tables"], path)
    elif isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list):
        raise UsageFileError(f"{path}: expected a list of rows, {{\"rows\": [...]}} or a Log Analytics response")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise UsageFileError(f"{path}: rows[{i}] is not an object")
        out.append(row_from_mapping(item, f"{path}: rows[{i}]"))
    return out


def load_usage_file(path: str) -> UsageData:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise UsageFileError(f"{path}: larger than {MAX_BYTES // 2**20} MB; aggregate by day before exporting")
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageFileError(f"{path}: cannot read usage file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageFileError(f"{path}: not UTF-8 text") from None
    rows = _read_json(text, path) if text.lstrip().startswith(("{", "[")) else _read_csv(text, path)
    if isinstance(rows, DeploymentList):
        if not rows:
            raise UsageFileError(f"{path}: an empty deployments list")
        ids = {d.account: _account_id(d.resource_id) for d in rows if _account_id(d.resource_id)}
        return UsageData(origin=path, deployments=tuple(rows),
                         accounts=tuple(AccountRef(n, i) for n, i in sorted(ids.items())))
    if not rows:
        raise UsageFileError(f"{path}: no usage rows")
    days = [r.day for r in rows]
    refs = tuple(AccountRef(n, i) for n, i in sorted(getattr(rows, "ids", {}).items()))
    return UsageData(rows=tuple(rows), window=(min(days), max(days)), origin=path, accounts=refs)


def _table_rows(tables: list[Any], path: str) -> list[dict[str, Any]]:
    """Rows of a Log Analytics query response (tables of columns and rows), each shape checked so a wrong one is
    one line naming the file and the key. https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format"""
    rows: list[dict[str, Any]] = []
    for t, table in enumerate(tables):
        where = f"{path}: tables[{t}]"
        if not isinstance(table, dict):
            raise UsageFileError(f"{where}: expected an object with columns and rows")
        columns, values = table.get("columns", []), table.get("rows", [])
        if not isinstance(columns, list) or not isinstance(values, list):
            raise UsageFileError(f"{where}: columns and rows must be lists")
        names = []
        for c, column in enumerate(columns):
            if not isinstance(column, dict) or not isinstance(column.get("name"), str):
                raise UsageFileError(f"{where}.columns[{c}]: expected an object with a text name")
            names.append(column["name"])
        for r, row in enumerate(values):
            if not isinstance(row, list):
                raise UsageFileError(f"{where}.rows[{r}]: expected a list of values")
            rows.append(dict(zip(names, row, strict=False)))
    return rows
