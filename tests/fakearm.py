"""A fake Azure Resource Manager on 127.0.0.1 that the real Azure SDK clients talk to (see
../shared/notes/fake-arm-recipe.md): HTTPS with a trustme CA, Entra token endpoints, ARM REST shapes with
`nextLink` paging and ARM error bodies, a request log, queued faults and an optional token-bucket throttle.

The tenant it serves is built from an estate model (`tenant_from_estate`), so a live collection can be
compared with the offline audit of the same estate.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import random
import re
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

from fakekql import TABLE_COLUMNS, evaluate

SUB = "00000000-0000-0000-0000-000000000001"
TENANT = "11111111-1111-1111-1111-111111111111"
RG = "rg-ai"
READER = "33333333-3333-3333-3333-333333333333"
READ_ONLY_POST = re.compile(
    r"(^/v1/.+/query$|/providers/Microsoft\.ResourceGraph/resources$|/providers/Microsoft\.CostManagement/query$|"
    r"/oauth2/v2\.0/token$)", re.I
)


def login_env(srv: FakeARM, secret: str = "not-a-real-secret") -> dict[str, str]:
    """The environment that makes the real DefaultAzureCredential sign in as a service principal at the fake."""
    return {"AZURE_CLIENT_ID": "cid", "AZURE_CLIENT_SECRET": secret, "AZURE_TENANT_ID": TENANT,
            "AZURE_AUTHORITY_HOST": srv.base_url, "REQUESTS_CA_BUNDLE": srv.ca_path}


def arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


COST_API_VERSIONS = ("2019-11-01", "2021-10-01", "2022-10-01", "2023-03-01", "2023-11-01", "2024-08-01", "2025-03-01")


def _cost_query_refused(body: Any, api_version: str) -> str:
    """Why Cost Management refuses a query body (400 "Invalid query definition ..."), "" when it answers it.
    https://learn.microsoft.com/rest/api/cost-management/query/usage: type, timeframe and dataset are required, a
    Custom timeframe needs timePeriod `from` and `to` (QueryTimePeriod), an aggregation is {name, function} with
    function Sum (FunctionType's only value). The grouping check is the service's own message (Azure/azure-powershell
    issue 20953); this fake holds costs by resource, so it answers a ResourceId grouping only."""
    if api_version not in COST_API_VERSIONS:  # the versions learn.microsoft.com lists for Query - Usage
        return f"the api-version '{api_version}' is not one of Microsoft.CostManagement's"
    if not isinstance(body, dict) or not isinstance(body.get("dataset"), dict):
        return "Dataset is invalid or not supplied."
    if body.get("type") not in ("Usage", "ActualCost", "AmortizedCost") or not body.get("timeframe"):
        return "type and timeframe are required"
    period = body.get("timePeriod")
    if body["timeframe"] == "Custom" and not (isinstance(period, dict) and period.get("from") and period.get("to")):
        return "a Custom timeframe needs timePeriod from and to"
    aggregation = body["dataset"].get("aggregation")
    if not isinstance(aggregation, dict) or not aggregation or any(
            not isinstance(a, dict) or not a.get("name") or a.get("function") != "Sum" for a in aggregation.values()):
        return "Invalid dataset aggregation: each needs a column name and the function Sum"
    bad = [g.get("name") for g in body["dataset"].get("grouping") or [] if g.get("name") != "ResourceId"]
    return f"Invalid dataset grouping: '{bad[0]}'" if bad else ""


def _resource_type(rid: str) -> str:
    """`microsoft.cognitiveservices/accounts` of `/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a`."""
    tail = rid.lower().split("/providers/", 1)[-1].split("/")
    return "/".join(tail[:2])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeARM:
    def __init__(self, tenant: dict[str, Any] | None = None, page_size: int = 2,
                 latency: float | tuple[float, float] = 0.0, ca: trustme.CA | None = None):
        self.items: dict[str, dict[str, Any]] = {}  # lower-case path -> resource body
        self.collections: dict[str, list[dict[str, Any]]] = {}  # lower-case path -> items
        self.requests: list[dict[str, Any]] = []
        self.page_size = page_size
        self.latency = latency
        self.bucket: list[float] | None = None  # [tokens, capacity, refill per second, last time]
        self.clock: Any = time  # what the throttle's buckets refill by (throttle(clock=...))
        self.per_subscription = False  # throttle(): one bucket per subscription (and one for the tenant)
        self.buckets: dict[str, list[float]] = {}
        self._faults: list[list[Any]] = []
        self.tokens_issued = 0
        self.connections = 0  # TLS connections accepted: a client that reuses its connections keeps this small
        self.token_lifetime = 3600  # expires_in the token endpoint announces
        self.token_valid_for: float | None = None  # seconds the fake honours a token (None: forever)
        self.token_expiry: dict[str, float] = {}
        self.billed: dict[str, float] = {}  # account resource id -> actual cost the Cost Management query returns
        self.graph_disabled = False  # True: Resource Graph answers 403 (the tool must fall back to ARM lists)
        self.metric_events: list[dict[str, Any]] = []  # AppMetrics data points (see answer_log_query)
        self.llm_log: list[dict[str, Any]] = []  # ApiManagementGatewayLlmLog joined with GatewayLogs, per request
        self.platform: dict[str, list[dict[str, Any]]] = {}  # account id (lower) -> token points per deployment/day
        self.log_tables: dict[str, dict[str, list[dict[str, Any]]]] = {}  # resource id (lower) -> table -> raw rows
        self.no_table_access: set[str] = set()  # resource ids (lower) whose queries see empty tables
        self._lock = threading.Lock()
        self._closing = threading.Event()  # set on exit: answers held back ("SLOW") are dropped
        self.ca = ca or trustme.CA()  # share one CA: a second server the SDK clients trust (another host)
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        fd, self.ca_path = tempfile.mkstemp(suffix=".pem")
        os.write(fd, self.ca.cert_pem.bytes())
        os.close(fd)
        if tenant:
            self.load(tenant)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with outer._lock:
                    outer.connections += 1

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                rec = {"method": self.command, "path": u.path, "query": parse_qs(u.query),
                       "headers": dict(self.headers), "body": body, "t": time.time()}
                with outer._lock:
                    outer.requests.append(rec)
                status, headers, payload = outer.dispatch(rec)
                if isinstance(payload, tuple) and payload[0] == "SLOW":  # ("SLOW", seconds): answer late
                    if outer._closing.wait(payload[1]):  # the server is closing: the client gave up long ago
                        self.close_connection = True
                        return
                    status, headers, payload = outer.route(rec)
                if payload == "RESET":
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(payload, tuple) and payload[0] == "HUGE":  # ("HUGE", bytes): a list page, streamed
                    self._huge(status, headers, payload[1])
                    return
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = payload or b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _huge(self, status, headers, size):
                """A valid JSON page of `size` bytes, written in chunks (never held whole), until the client
                stops reading."""
                head, tail = b'{"value": [], "padding": "', b'"}'
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b"a" * (1 << 20)
                left = size - len(head) - len(tail)
                try:
                    self.wfile.write(head)
                    while left > 0:
                        self.wfile.write(chunk[:left])
                        left -= len(chunk)
                    self.wfile.write(tail)
                except OSError:  # the client stopped reading: what a bounded reader does
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> FakeARM:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        os.unlink(self.ca_path)

    # ------------------------------------------------------------------------------ test helpers
    def load(self, tenant: dict[str, Any]) -> None:
        for path, body in tenant.get("items", {}).items():
            self.items[path.lower()] = body
        for path, items in tenant.get("collections", {}).items():
            self.collections.setdefault(path.lower(), []).extend(items)

    def inject(self, method: str, path_regex: str, *responses: tuple[int, dict[str, str], Any]) -> None:
        """Queue responses (status, headers, body) for matching requests, consumed first in, first out."""
        with self._lock:
            self._faults.append([method.upper(), re.compile(path_regex, re.I), list(responses)])

    def throttle(self, capacity: int, refill_per_second: float, per_subscription: bool = False,
                 clock: Any = None) -> None:
        """One bucket for every read, or (per_subscription) one per subscription in the URL plus one for
        tenant-level reads, as ARM meters them (request-limits-and-throttling: per subscription, per principal).
        `clock` (monotonic()): the time the buckets refill by; a test's virtual clock, shared with the pacer,
        makes the throttle independent of machine load. Default: wall time."""
        self.clock = clock or time
        self.bucket = [float(capacity), float(capacity), refill_per_second, self.clock.monotonic()]
        self.per_subscription = per_subscription
        self.buckets: dict[str, list[float]] = {}

    def calls(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests]

    def writes(self) -> list[tuple[str, str]]:
        bad = [(m, p) for m, p in self.calls() if m in ("PUT", "PATCH", "DELETE")]
        return bad + [(m, p) for m, p in self.calls() if m == "POST" and not READ_ONLY_POST.search(p)]

    # ------------------------------------------------------------------------------ routing
    def _take_token(self, path: str = "") -> tuple[float | None, int]:
        """Token bucket per principal (and per subscription when asked); returns (seconds to wait when empty,
        reads left)."""
        if self.bucket is None:
            return None, 249
        with self._lock:
            key = ""
            if self.per_subscription:
                m = re.match(r"/subscriptions/([^/]+)", path, re.I)
                key = m.group(1).lower() if m else ""
                if key not in self.buckets:
                    self.buckets[key] = [self.bucket[1], self.bucket[1], self.bucket[2], self.clock.monotonic()]
                bucket = self.buckets[key]
            else:
                bucket = self.bucket
            tokens, cap, rate, last = bucket
            now = self.clock.monotonic()
            tokens = min(cap, tokens + (now - last) * rate)
            wait = None if tokens >= 1 else (1 - tokens) / rate
            bucket[:] = [tokens - 1 if wait is None else tokens, cap, rate, now]
            return wait, int(bucket[0])

    def dispatch(self, rec: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        method, path = rec["method"], rec["path"]
        with self._lock:
            for fault in self._faults:
                if fault[0] == method and fault[1].search(path) and fault[2]:
                    status, headers, body = fault[2].pop(0)
                    return status, dict(headers), body
        return self.route(rec)

    def route(self, rec: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """What the service answers when no fault is queued."""
        method, path = rec["method"], rec["path"]
        if self.latency:  # seconds, or (low, high) for a uniform spread
            lo, hi = self.latency if isinstance(self.latency, tuple) else (self.latency, self.latency)
            time.sleep(random.uniform(lo, hi))
        if re.fullmatch(r"/[^/]+/v2\.0/\.well-known/openid-configuration", path):
            base = f"{self.base_url}/{path.split('/')[1]}"
            return 200, {}, {"token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                             "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
                             "response_modes_supported": ["query"], "tenant_region_scope": None}
        if method == "POST" and re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path):
            with self._lock:
                self.tokens_issued += 1
                n = self.tokens_issued
            token = f"{_b64({'alg': 'none'})}.{_b64({'oid': READER, 'tid': TENANT, 'n': n})}.sig"
            self.token_expiry[token] = time.time() + (10**9 if self.token_valid_for is None else self.token_valid_for)
            return 200, {}, {"token_type": "Bearer", "expires_in": self.token_lifetime,
                             "ext_expires_in": self.token_lifetime, "access_token": token}
        bearer = (rec["headers"].get("Authorization") or "").removeprefix("Bearer ")
        if self.token_valid_for is not None and self.token_expiry.get(bearer, 0) < time.time():
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token '
                         'has expired"'}, arm_error("ExpiredAuthenticationToken", "The access token has expired")
        wait, left = self._take_token(path)
        if wait is not None:
            return 429, {"Retry-After": f"{max(wait, 0.01):.2f}"}, arm_error("TooManyRequests", "read throttled")
        remaining = {"x-ms-ratelimit-remaining-subscription-reads": str(left)}
        if method == "POST" and path.lower() == "/providers/microsoft.resourcegraph/resources":
            if self.graph_disabled:
                return 403, {}, arm_error("AuthorizationFailed", "no Microsoft.ResourceGraph/resources/read")
            return 200, remaining, self.resource_graph(json.loads(rec["body"] or b"{}"))
        if method == "POST" and re.fullmatch(r"/subscriptions/[^/]+/providers/Microsoft\.CostManagement/query", path, re.I):
            refused = _cost_query_refused(json.loads(rec["body"] or b"{}"), (rec["query"].get("api-version") or [""])[0])
            if refused:
                return 400, remaining, arm_error("BadRequest", f"Invalid query definition: {refused}")
            return 200, remaining, self.cost_query(rec)
        if method == "POST" and re.fullmatch(r"/v1/.+/query", path):
            return 200, {}, answer_log_query(self, json.loads(rec["body"] or b"{}"), path[len("/v1"):-len("/query")])
        if method != "GET":
            return 405, {}, arm_error("MethodNotAllowed", f"the fake serves reads only: {method} {path}")
        if path.lower().endswith("/providers/microsoft.insights/metrics"):
            account = path[: -len("/providers/Microsoft.Insights/metrics")].lower()
            rid = path[: -len("/providers/Microsoft.Insights/metrics")]
            sub = rid.split("/")[2] if rid.count("/") > 2 else ""
            listed = self.collections.get(f"/subscriptions/{sub}/providers/microsoft.cognitiveservices/accounts", [])
            region = next((a.get("location", "") for a in listed if a["id"].lower() == account), "eastus")
            return 200, remaining, platform_metrics(self.platform.get(account, []), rec["query"], rid, region)
        key = path.rstrip("/").lower()
        if key in self.items:
            return 200, remaining, self.items[key]
        if key in self.collections:
            items = self.collections[key]
            skip = int((rec["query"].get("$skiptoken") or ["0"])[0])
            page = items[skip: skip + self.page_size]
            body: dict[str, Any] = {"value": page}
            if skip + self.page_size < len(items):
                body["nextLink"] = f"{self.base_url}{path}?api-version=x&$skiptoken={skip + self.page_size}"
            return 200, remaining, body
        return 404, remaining, arm_error("ResourceNotFound", f"no such resource: {path}")


    def cost_query(self, rec: dict[str, Any]) -> dict[str, Any]:
        """Cost Management query grouped by ResourceId: one row per account given in `self.billed`, two per page.
        Columns as the service names them: the aggregation's `name` for the cost (the spec's example asks
        {"name": "PreTaxCost", "function": "Sum"} and gets a PreTaxCost column), each grouping's name, Currency
        (azure-rest-api-specs cost-management/.../stable/2023-03-01/examples/SubscriptionQueryGrouping.json)."""
        dataset = json.loads(rec["body"] or b"{}")["dataset"]
        cost = next(iter(dataset["aggregation"].values()))["name"]
        groups = [g["name"] for g in dataset.get("grouping") or []]
        sub = rec["path"].split("/")[2]
        # a `dimensions` filter on ResourceType keeps the rows of those types (QueryComparisonExpression, operator In)
        where = (dataset.get("filter") or {}).get("dimensions") or {}
        types = {v.lower() for v in where.get("values") or []} if where.get("name") == "ResourceType" else None
        by = {"ResourceId": lambda rid: rid}
        rows = [[cost_of, *[by[g](rid) for g in groups], "USD"] for rid, cost_of in sorted(self.billed.items())
                if rid.split("/")[2] == sub and (types is None or _resource_type(rid) in types)]
        skip = int((rec["query"].get("$skiptoken") or ["0"])[0])
        columns = [{"name": cost, "type": "Number"}, *[{"name": g, "type": "String"} for g in groups],
                   {"name": "Currency", "type": "String"}]
        props: dict[str, Any] = {"columns": columns, "rows": rows[skip: skip + 2]}
        if skip + 2 < len(rows):
            props["nextLink"] = f"{self.base_url}{rec['path']}?api-version=2023-03-01&$skiptoken={skip + 2}"
        return {"id": "query", "name": "query", "type": "Microsoft.CostManagement/query", "properties": props}

    def resource_graph(self, body: dict[str, Any]) -> dict[str, Any]:
        """Resource Graph `resources`: the services and accounts the fake holds, for the subscriptions asked,
        paged with $skipToken as the real service does."""
        rows = []
        for sub in body.get("subscriptions", []):
            for suffix, rtype in (("Microsoft.ApiManagement/service", "microsoft.apimanagement/service"),
                                  ("Microsoft.CognitiveServices/accounts", "microsoft.cognitiveservices/accounts")):
                for item in self.collections.get(f"/subscriptions/{sub}/providers/{suffix}".lower(), []):
                    rg = item["id"].split("/resourceGroups/")[1].split("/")[0] if "/resourceGroups/" in item["id"] else ""
                    rows.append({**item, "type": rtype, "subscriptionId": sub, "resourceGroup": rg.lower()})
        skip = int(((body.get("options") or {}).get("$skipToken")) or 0)
        page = rows[skip: skip + self.page_size]
        out: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "resultTruncated": "false",
                               "data": page, "facets": []}
        if skip + self.page_size < len(rows):
            out["$skipToken"] = str(skip + self.page_size)
        return out


# ---------------------------------------------------------------------------------- Azure Monitor


def _at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.timezone.utc)


def log_tables(srv: FakeARM, resource: str) -> dict[str, list[dict[str, Any]]]:
    """The raw rows a resource-context query sees: the tables set for that resource, else the AppMetrics and
    gateway log rows built from `metric_events` and `llm_log`. Without table access (`srv.no_table_access`)
    the tables are empty and the query still answers 200, as Azure does (azure-facts.md section 9)."""
    if resource.lower() in srv.no_table_access:
        return {name: [] for name in TABLE_COLUMNS}
    if resource.lower() in srv.log_tables:
        return {**{name: [] for name in TABLE_COLUMNS}, **srv.log_tables[resource.lower()]}
    metrics: list[dict[str, Any]] = []
    for e in srv.metric_events:
        for name, key in (("Prompt Tokens", "prompt"), ("Completion Tokens", "completion"),
                          ("Cached Tokens", "cached"), ("Reasoning Tokens", "reasoning")):
            if e.get(key):
                metrics.append({"TimeGenerated": _at(e["day"]), "Name": name, "Sum": float(e[key]),
                                "Properties": dict(e["properties"])})
        metrics.append({"TimeGenerated": _at(e["day"]), "Name": "Total Tokens",
                        "Sum": float(e["prompt"] + e["completion"]), "Properties": dict(e["properties"])})
    llm, gateway = [], []
    for n, e in enumerate(srv.llm_log):
        cid = f"corr-{n}"
        llm.append({"TimeGenerated": _at(e["day"]), "CorrelationId": cid, "ModelName": e["model"],
                    "DeploymentName": e["deployment"], "Region": e["region"], "PromptTokens": e["prompt"],
                    "CompletionTokens": e["completion"], "TotalTokens": e["prompt"] + e["completion"],
                    "IsStreamCompletion": bool(e.get("stream"))})
        gateway.append({"TimeGenerated": _at(e["day"]), "CorrelationId": cid, "ApiId": e["api"],
                        "ProductId": e["product"], "ApimSubscriptionId": e["subscription"]})
    return {"AppMetrics": metrics, "ApiManagementGatewayLlmLog": llm, "ApiManagementGatewayLogs": gateway}


def answer_log_query(srv: FakeARM, body: dict[str, Any], resource: str = "") -> dict[str, Any]:
    """Log Analytics: the query text is evaluated (tests/fakekql.py) over the resource's raw rows, server-side."""
    return evaluate(body.get("query", ""), log_tables(srv, resource))


def platform_metrics(points: list[dict[str, Any]], query: dict[str, list[str]], account: str = "",
                     region: str = "eastus") -> dict[str, Any]:
    """GET {account}/providers/Microsoft.Insights/metrics (2021-05-01 `Response`), split by deployment/model.
    As Azure does: at most `top` series per metric, and `top` defaults to 10 when $filter is given
    (azure-facts.md section 9)."""
    wanted = (query.get("metricnames") or [""])[0].split(",")
    top = int((query.get("top") or ["10" if query.get("$filter") else "1000000"])[0])
    value = []
    for name, column in (("InputTokens", "input"), ("OutputTokens", "output")):
        if name not in wanted:
            continue
        series: dict[tuple, list[dict[str, Any]]] = {}
        for p in points:
            key = (p["deployment"], p["model"], p["version"])
            series.setdefault(key, []).append({"timeStamp": f"{p['day']}T00:00:00Z", "total": float(p[column])})
        value.append({
            "id": f"{account}/providers/Microsoft.Insights/metrics/{name}", "type": "Microsoft.Insights/metrics",
            "unit": "Count",
            "name": {"value": name, "localizedValue": name},
            "timeseries": [
                {"metadatavalues": [{"name": {"value": "modeldeploymentname"}, "value": d},
                                    {"name": {"value": "modelname"}, "value": m},
                                    {"name": {"value": "modelversion"}, "value": v}], "data": data}
                for (d, m, v), data in sorted(series.items())[:top]
            ],
        })
    return {"cost": 0, "timespan": (query.get("timespan") or [""])[0], "interval": "P1D", "value": value,
            "namespace": "Microsoft.CognitiveServices/accounts", "resourceregion": region}


def load_usage_csv(srv: FakeARM, path, accounts: dict[str, str]) -> None:
    """Turn an exported usage file into the raw data points the fake serves (accounts: name -> resource id)."""
    import csv

    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            prompt, completion = int(row["input_tokens"] or 0), int(row["output_tokens"] or 0)
            if row["source"] == "platform":
                srv.platform.setdefault(accounts[row["account"]].lower(), []).append(
                    {"day": row["day"], "deployment": row["deployment"], "model": row["model"],
                     "version": row["model_version"], "input": prompt, "output": completion})
                continue
            props = {"API ID": row["api"], "Product ID": row["product"]}
            if row["dimension"] and row["consumer"]:
                props[row["dimension"]] = row["consumer"]
            srv.metric_events.append({"day": row["day"], "properties": props, "prompt": prompt,
                                      "completion": completion})


# ---------------------------------------------------------------------------------- tenants


def _diagnostic(rid: str, d) -> dict[str, Any]:
    return {"id": rid, "name": d.name, "type": "Microsoft.ApiManagement/service/diagnostics", "properties": {
        "loggerId": d.logger_id, "metrics": d.metrics,
        **({"sampling": {"samplingType": "fixed", "percentage": d.sampling_percentage}}
           if d.sampling_percentage is not None else {}),
        **({"largeLanguageModel": {"logs": d.llm_logging}} if d.llm_logging else {})}}


def tenant_from_estate(estate, sub: str = SUB, rg: str = RG) -> dict[str, Any]:
    """The ARM REST view of an estate's services (policies as rawxml), plus what it holds of accounts etc."""
    items: dict[str, Any] = {}
    cols: dict[str, list[Any]] = {}
    sub_path = f"/subscriptions/{sub}"

    def res(rid: str, rtype: str, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": rtype, "properties": props, **extra}

    def policy(rid: str, pol) -> None:
        items[rid] = res(rid, "Microsoft.ApiManagement/service/policies", {"format": "rawxml", "value": pol.text})

    services = cols.setdefault(f"{sub_path}/providers/Microsoft.ApiManagement/service", [])
    for svc in estate.services:
        sid = f"{sub_path}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{svc.name}"
        services.append(res(sid, "Microsoft.ApiManagement/service", {"publisherEmail": "a@b.c", "publisherName": "x"},
                            location=svc.location or "eastus", sku={"name": "Developer", "capacity": 1},
                            **({"tags": dict(svc.tags)} if svc.tags else {})))
        cols[f"{sub_path}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service"] = list(services)
        if svc.global_policy:
            policy(f"{sid}/policies/policy", svc.global_policy)
        cols.setdefault(f"{sid}/apis", [])
        for api in svc.apis:
            scope = f"{sid}/workspaces/{api.workspace}" if api.workspace else sid
            aid = f"{scope}/apis/{api.name}"
            cols.setdefault(f"{scope}/apis", []).append(res(aid, "Microsoft.ApiManagement/service/apis", {
                "displayName": api.display_name, "path": api.path or api.name, "serviceUrl": api.service_url or None,
                "subscriptionRequired": api.subscription_required, "isCurrent": api.is_current, "protocols": ["https"]}))
            if api.policy:
                policy(f"{aid}/policies/policy", api.policy)
            cols[f"{aid}/diagnostics"] = [_diagnostic(f"{aid}/diagnostics/{d.name}", d)
                                          for d in svc.diagnostics if d.api == api.name and d.workspace == api.workspace]
            ops = cols.setdefault(f"{aid}/operations", [])
            for op in api.operations:
                oid = f"{aid}/operations/{op.name}"
                ops.append(res(oid, "Microsoft.ApiManagement/service/apis/operations", {
                    "displayName": op.display_name or op.name, "method": op.method or "POST", "urlTemplate": op.url_template or "/"}))
                if op.policy:
                    policy(f"{oid}/policies/policy", op.policy)
        cols.setdefault(f"{sid}/products", [])
        for product in svc.products:
            scope = f"{sid}/workspaces/{product.workspace}" if product.workspace else sid
            pid = f"{scope}/products/{product.name}"
            cols.setdefault(f"{scope}/products", []).append(res(pid, "Microsoft.ApiManagement/service/products", {
                "displayName": product.display_name, "subscriptionRequired": product.subscription_required, "state": "published"}))
            cols[f"{pid}/apis"] = [res(f"{pid}/apis/{a}", "Microsoft.ApiManagement/service/products/apis",
                                       {"displayName": a, "path": a, "protocols": ["https"]}) for a in product.apis]
            # a workspace product lists its APIs as links (workspaces/products/apiLinks, ProductApiLinkContract)
            cols[f"{pid}/apiLinks"] = [res(f"{pid}/apiLinks/{a}-link", "Microsoft.ApiManagement/service/workspaces/"
                                           "products/apiLinks", {"apiId": f"{scope}/apis/{a}"}) for a in product.apis]
            if product.policy:
                policy(f"{pid}/policies/policy", product.policy)
        cols.setdefault(f"{sid}/policyFragments", [])
        for frag in svc.fragments:
            scope = f"{sid}/workspaces/{frag.workspace}" if frag.workspace else sid
            fid = f"{scope}/policyFragments/{frag.name}"
            body = res(fid, "Microsoft.ApiManagement/service/policyFragments", {"format": "rawxml", "value": frag.policy.text})
            cols.setdefault(f"{scope}/policyFragments", []).append(body)
            items[fid] = body
        for ws in (None, *(w.name for w in svc.workspaces)):
            scope = f"{sid}/workspaces/{ws}" if ws else sid
            cols[f"{scope}/namedValues"] = [
                res(f"{scope}/namedValues/{nv.name}", "Microsoft.ApiManagement/service/namedValues",
                    {"displayName": nv.display_name, "secret": nv.secret, **({} if nv.secret else {"value": nv.value})})
                for nv in svc.named_values if nv.workspace == ws
            ]
            cols[f"{scope}/backends"] = [
                res(f"{scope}/backends/{b.name}", "Microsoft.ApiManagement/service/backends",
                    {"url": b.url, "protocol": "http", **({"resourceId": b.resource_id} if b.resource_id else {})}
                    if b.backend_type != "pool" else
                    {"type": "Pool", "pool": {"services": [{"id": m} for m in b.pool_members]}})
                for b in svc.backends if b.workspace == ws
            ]
            cols[f"{scope}/loggers"] = [res(f"{scope}/loggers/{lg.name}", "Microsoft.ApiManagement/service/loggers",
                                            {"loggerType": lg.logger_type, "resourceId": lg.resource_id or None})
                                        for lg in svc.loggers if lg.workspace == ws]
            cols[f"{scope}/diagnostics"] = [_diagnostic(f"{scope}/diagnostics/{d.name}", d) for d in svc.diagnostics
                                            if d.api is None and d.workspace == ws]
        cols[f"{sid}/workspaces"] = [res(f"{sid}/workspaces/{w.name}", "Microsoft.ApiManagement/service/workspaces",
                                         {"displayName": w.name}) for w in svc.workspaces]
        for w in svc.workspaces:
            cols.setdefault(f"{sid}/workspaces/{w.name}/apis", [])
            cols.setdefault(f"{sid}/workspaces/{w.name}/policyFragments", [])
            cols.setdefault(f"{sid}/workspaces/{w.name}/products", [])
            if w.policy:
                policy(f"{sid}/workspaces/{w.name}/policies/policy", w.policy)
        cols[f"{sid}/providers/Microsoft.Insights/diagnosticSettings"] = []
    cols.setdefault(f"{sub_path}/providers/Microsoft.CognitiveServices/accounts", [])
    cols.setdefault(f"{sub_path}/providers/Microsoft.Authorization/roleAssignments", [])
    return {"items": items, "collections": cols}


def add_account(tenant: dict[str, Any], name: str, *, local_auth: bool, public: str, sub: str = SUB, rg: str = RG,
                diagnostics: bool = True, location: str = "eastus",
                deployments: tuple[tuple, ...] = (("gpt-4o", "gpt-4o", "2024-11-20", "GlobalStandard"),),
                kind: str = "OpenAI", tags: dict[str, str] | None = None,
                projects: tuple[tuple[str, dict[str, str]], ...] = ()) -> str:
    """An Azure OpenAI / AI Services account with its deployments (name, model, version, sku[, capacity[, tags]])
    and, for kind AIServices, its Foundry projects (name, tags), in the REST shapes of accounts, Deployments_List
    and Projects_List."""
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}"
    cols = tenant["collections"]
    cols.setdefault(f"/subscriptions/{sub}/providers/Microsoft.CognitiveServices/accounts", []).append({
        "id": rid, "name": name, "type": "Microsoft.CognitiveServices/accounts", "kind": kind, "location": location,
        **({"tags": tags} if tags else {}),
        "properties": {"endpoint": f"https://{name}.openai.azure.com/", "disableLocalAuth": not local_auth,
                       "publicNetworkAccess": public}})
    cols[f"{rid}/deployments"] = [
        {"id": f"{rid}/deployments/{d[0]}", "name": d[0],
         "sku": {"name": d[3], **({"capacity": d[4]} if len(d) > 4 and d[4] is not None else {})},
         **({"tags": d[5]} if len(d) > 5 and d[5] else {}),
         "properties": {"model": {"format": "OpenAI", "name": d[1], "version": d[2]}}}
        for d in deployments]
    if kind.lower() == "aiservices":
        cols[f"{rid}/projects"] = [
            {"id": f"{rid}/projects/{p}", "name": f"{name}/{p}", "type": "Microsoft.CognitiveServices/accounts/projects",
             "location": location, **({"tags": t} if t else {}), "identity": {"type": "SystemAssigned"},
             "properties": {"displayName": p, "isDefault": i == 0}} for i, (p, t) in enumerate(projects)]
    ws = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/law"
    cols[f"{rid}/providers/Microsoft.Insights/diagnosticSettings"] = [{
        "id": f"{rid}/providers/microsoft.insights/diagnosticSettings/to-law", "name": "to-law",
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {"workspaceId": ws, "logs": [{"categoryGroup": "allLogs", "enabled": True}],
                       "metrics": [{"category": "AllMetrics", "enabled": True}]}}] if diagnostics else []
    return rid


def add_role(tenant: dict[str, Any], role_guid: str, scope: str, principal: str = READER, sub: str = SUB,
             role_name: str = "Reader", actions: tuple[str, ...] = ("*/read",)) -> None:
    rdid = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
    tenant["collections"].setdefault(f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments", []).append({
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{role_guid[:8]}-ra", "name": f"{role_guid[:8]}-ra",
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": rdid, "principalId": principal, "principalType": "ServicePrincipal", "scope": scope}})
    tenant["items"][rdid] = {"id": rdid, "name": role_guid, "type": "Microsoft.Authorization/roleDefinitions",
                             "properties": {"roleName": role_name, "type": "BuiltInRole",
                                            "permissions": [{"actions": list(actions), "notActions": []}]}}
