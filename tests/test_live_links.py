"""The bearer token goes only to the endpoint that issued the links: a nextLink (SDK pagers, raw paged reads,
diagnostics, the Cost Management query) or a redirect to another host is an AU001 naming the link, and the
other host receives nothing. Real SDK clients and the real credential chain against the fake ARM; the
"other host" is a second fake server whose certificate the clients trust, so only the tool's own rule
stands between the token and it.
"""

from __future__ import annotations

import datetime as dt
import ssl
import urllib.request

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit, with_live_usage
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import live_session
from aoai_audit.sources.live.http import same_origin
from aoai_audit.sources.live.options import LiveOptions
from conftest import EXAMPLE
from fakearm import SUB, FakeARM, add_account, login_env, tenant_from_estate

FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
SVC = r"/service/contoso-apim"


@pytest.fixture()
def servers(monkeypatch):
    tenant = tenant_from_estate(load_paths([str(EXAMPLE)]))
    account = add_account(tenant, "aoai-eus", local_auth=False, public="Disabled")
    with FakeARM(tenant) as home, FakeARM(ca=home.ca) as foreign:
        home.billed = {account: 10.0}
        for name, value in login_env(home).items():
            monkeypatch.setenv(name, value)
        # the control: the foreign server is reachable and trusted, so zero requests below is the tool's doing
        context = ssl.create_default_context(cafile=home.ca_path)
        with pytest.raises(urllib.request.HTTPError):
            urllib.request.urlopen(f"{foreign.base_url}/probe", context=context, timeout=5)
        assert len(foreign.requests) == 1
        foreign.requests.clear()
        yield home, foreign


def collect(home: FakeARM, usage_window=None, logs_endpoint=None):
    """The estate as `collect` reads it: with the window's usage read live when a window is given."""
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=home.base_url, client_kwargs=dict(FAST))
    with live_session(options) as collector:
        estate = collector.collect()
        if usage_window is None:
            return estate
        return with_live_usage(estate, Settings(), collector.usage_reader(usage_window, logs_endpoint))


def _link(foreign: FakeARM, path: str) -> str:
    return f"{foreign.base_url}{path}?api-version=x&$skiptoken=2"


CASES = {
    # name: (method, path regex on the home server, response built from the foreign link)
    "SDK pager nextLink (apis)": ("GET", SVC + r"/apis$", lambda url: {"value": [], "nextLink": url}),
    "raw paged read nextLink (deployments)": ("GET", r"/accounts/[^/]+/deployments$",
                                              lambda url: {"value": [], "nextLink": url}),
    "raw paged read @odata.nextLink (deployments)": ("GET", r"/accounts/[^/]+/deployments$",
                                                     lambda url: {"value": [], "@odata.nextLink": url}),
    "diagnostics nextLink": ("GET", SVC + r"/diagnostics$", lambda url: {"value": [], "nextLink": url}),
    "Cost Management nextLink (POST)": ("POST", r"/providers/Microsoft\.CostManagement/query$", lambda url: {
        "properties": {"columns": [{"name": "Cost"}, {"name": "ResourceId"}, {"name": "Currency"}], "rows": [],
                       "nextLink": url}}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_link_to_another_host_is_au001_and_the_token_never_leaves(servers, registry, name):
    home, foreign = servers
    method, path, body = CASES[name]
    url = _link(foreign, "/steal")
    home.inject(method, path, (200, {}, body(url)))
    usage = {"usage_window": (dt.date(2026, 11, 1), dt.date(2026, 11, 2)), "logs_endpoint": home.base_url}
    estate = collect(home, **(usage if method == "POST" else {}))  # the cost query runs with a usage window
    assert foreign.requests == []  # no request at all, so no Authorization header and no POST body
    result = run_audit(estate, registry, Settings(fail_on="never"))
    au001 = [f for f in result.findings if f.rule_id == "AU001" and url in f.message]
    assert au001, [f.message for f in result.findings if f.rule_id == "AU001"]
    assert "another host" in au001[0].message and au001[0].not_audited
    assert estate.services and estate.services[0].loggers  # the rest of the estate was still read
    assert run_audit(estate, registry, Settings()).exit_code() != 0


def test_a_redirect_to_another_host_is_refused_too(servers, registry):
    home, foreign = servers
    url = _link(foreign, "/steal")
    home.inject("GET", SVC + r"/apis/chat-completions/policies/policy$", (307, {"Location": url}, b""))
    estate = collect(home)
    assert foreign.requests == []
    messages = [f.message for f in run_audit(estate, registry, Settings()).findings if f.rule_id == "AU001"]
    assert any(url in m for m in messages), messages


def test_a_link_on_the_same_endpoint_is_followed(servers, registry):
    home, foreign = servers
    estate = collect(home)  # the fake pages every list by two, with absolute nextLinks
    assert not estate.gaps and len(estate.services[0].apis) > 2 and foreign.requests == []


@pytest.mark.parametrize(("link", "same"), [
    ("https://management.azure.com/subscriptions?$skiptoken=2", True),
    ("HTTPS://Management.Azure.com:443/x", True),
    ("https://management.azure.com./x", True),
    ("/subscriptions/x?$skiptoken=2", True),
    ("http://management.azure.com/x", False),  # scheme
    ("https://management.azure.com:8443/x", False),  # port
    ("https://management.azure.com.evil.example/x", False),
    ("https://management.azure.com@evil.example/x", False),  # userinfo: the host is evil.example
    ("//evil.example/x", False),  # scheme-relative
    ("\\\\evil.example\\x", False),
    ("https://management.azure.com:99999999/x", False),
    ("file:///etc/passwd", False),
])
def test_same_origin(link, same):
    assert same_origin(link, "https://management.azure.com/subscriptions/s/providers/x?api-version=1") is same
