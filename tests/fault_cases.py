"""Live fault classes, injected into the fake ARM: each must end as a retry that succeeds or an AU001 finding.

Shared by tests/test_live_faults.py and scripts/fault_table.py (which prints the table for a closing note).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fakearm import arm_error

SVC = r"/service/contoso-apim"
POLICY = SVC + r"/apis/chat-completions/policies/policy$"
APIS = SVC + r"/apis$"
OPS = SVC + r"/apis/chat-completions/operations$"
NAMED = SVC + r"/namedValues$"
RETRIES = 2  # retry_total in the tests: three attempts
# read_timeout in the tests: long enough that an ordinary answer of the fake never meets it on a loaded machine;
# the slow faults are held far longer (HELD), until the fake closes, so they always do
READ_TIMEOUT = 2.0
HELD = 600.0


@dataclass(frozen=True)
class Fault:
    name: str
    method: str
    path: str
    responses: tuple[tuple[int, dict[str, str], Any], ...]
    expect: str  # "retried": read in the end, no AU001; "au001": an AU001 finding on `where`
    where: str = ""  # a fragment of the AU001 resource or message
    times: int = 1


def _page_loop(base_url: str) -> dict[str, Any]:
    return {"value": [], "nextLink": f"{base_url}/subscriptions/x/resourceGroups/rg-ai/providers/Microsoft.ApiManagement/"
                                     "service/contoso-apim/apis?api-version=x&$skiptoken=loop"}


def huge_named_values(n: int = 5000) -> dict[str, Any]:
    return {"value": [{"id": f"nv{i}", "name": f"nv-{i}", "properties": {"displayName": f"nv-{i}", "secret": True}}
                      for i in range(n)]}


def cases(base_url: str) -> list[Fault]:
    forever = RETRIES + 1
    err = arm_error
    return [
        Fault("401 Unauthorized", "GET", POLICY, ((401, {}, err("InvalidAuthenticationToken", "bad token")),),
              "au001", "chat-completions/policies"),
        Fault("403 AuthorizationFailed", "GET", POLICY, ((403, {}, err("AuthorizationFailed", "no read")),),
              "au001", "chat-completions/policies"),
        Fault("404 on a list that must exist", "GET", OPS, ((404, {}, err("ResourceNotFound", "gone")),),
              "au001", "chat-completions/operations"),
        Fault("409 Conflict", "GET", POLICY, ((409, {}, err("Conflict", "busy")),), "au001", "chat-completions/policies"),
        Fault("429 with Retry-After, once", "GET", POLICY, ((429, {"Retry-After": "0.2"}, err("TooManyRequests", "slow down")),),
              "retried"),
        Fault("429 without Retry-After, once", "GET", POLICY, ((429, {}, err("TooManyRequests", "slow down")),), "retried"),
        Fault("429 past every retry", "GET", POLICY, ((429, {"Retry-After": "0.05"}, err("TooManyRequests", "x")),) * forever,
              "au001", "chat-completions/policies"),
        Fault("500 once", "GET", POLICY, ((500, {}, err("InternalServerError", "oops")),), "retried"),
        Fault("503 past every retry", "GET", POLICY, ((503, {}, err("ServiceUnavailable", "down")),) * forever,
              "au001", "chat-completions/policies"),
        # held until the fake closes: past any read timeout however slow the machine, never answered in time
        Fault("timeout once (slow answer)", "GET", POLICY, ((200, {}, ("SLOW", HELD)),), "retried"),
        Fault("timeout past every retry", "GET", POLICY, ((200, {}, ("SLOW", HELD)),) * forever, "au001",
              "chat-completions/policies"),
        Fault("connection reset once", "GET", POLICY, ((200, {}, "RESET"),), "retried"),
        Fault("connection reset past every retry", "GET", POLICY, ((200, {}, "RESET"),) * (forever + 2), "au001",
              "chat-completions/policies"),
        Fault("truncated JSON", "GET", APIS, ((200, {"Content-Type": "application/json"}, b'{"value": [{"id": "a'),),
              "au001", "contoso-apim/apis"),
        Fault("HTML instead of JSON", "GET", POLICY, ((200, {"Content-Type": "text/html"}, "<html>gateway error</html>"),),
              "au001", "chat-completions/policies"),
        Fault("nextLink that loops", "GET", APIS, ((200, {}, _page_loop(base_url)),) * 3, "au001", "paging loop"),
        # the same server under another host name: the token must not follow (tests/test_live_links.py uses a
        # second server and checks that it receives nothing)
        Fault("nextLink to another host", "GET", APIS,
              ((200, {}, _page_loop(base_url.replace("127.0.0.1", "localhost"))),), "au001", "another host"),
        Fault("huge page (5,000 named values, one body)", "GET", NAMED, ((200, {}, huge_named_values()),), "retried"),
    ]


def body_size(fault: Fault) -> int:
    return sum(len(json.dumps(b)) if isinstance(b, dict) else len(b) if isinstance(b, (str, bytes)) else 0
               for _s, _h, b in fault.responses)
