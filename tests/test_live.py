"""The live source with the real Azure SDK clients and the real credential chain, against the fake ARM."""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from clock import VirtualClock
from conftest import EXAMPLE
from fakearm import (
    READER,
    SUB,
    FakeARM,
    add_account,
    add_role,
    arm_error,
    login_env,
    tenant_from_estate,
)

FAST = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"


@pytest.fixture()
def fake(monkeypatch):
    tenant = tenant_from_estate(load_paths([str(EXAMPLE)]))
    add_account(tenant, "aoai-open", local_auth=True, public="Enabled", diagnostics=False)
    add_account(tenant, "aoai-closed", local_auth=False, public="Disabled")
    add_role(tenant, MONITORING_READER, f"/subscriptions/{SUB}", role_name="Monitoring Reader")
    with FakeARM(tenant) as srv:
        # the real credential chain: an environment service principal against the fake authority
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def live(srv, **kw):
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST), **kw)
    return collect_live(options)


def test_live_collection_reads_the_estate_and_only_reads(fake, registry):
    estate, counter = live(fake)
    assert not estate.gaps, estate.gaps
    (svc,) = estate.services
    assert len(svc.apis) == 6  # three pages of two: nextLink followed
    assert {a.name for a in estate.accounts} == {"aoai-open", "aoai-closed"}
    assert estate.reader_principal == READER  # the identity running the audit, from its token
    assert estate.role_definitions and estate.role_definitions[0].name == "Monitoring Reader"
    assert fake.writes() == []  # no PUT, PATCH, DELETE, and POST only to the token endpoint
    assert not any("listValue" in p or "listSecrets" in p for _m, p in fake.calls())
    assert counter.total == len([r for r in fake.requests if "oauth2" not in r["path"] and "openid" not in r["path"]])


def test_every_client_of_a_run_shares_one_connection_pool(fake):
    """One pool for every SDK client (Resource Graph, APIM, Monitor, Authorization), as large as the bound on
    requests in flight: connections are kept and reused, not opened per client or per burst (a TLS handshake
    each, on both ends)."""
    fake.latency = 0.02  # so requests overlap
    estate, counter = live(fake, max_in_flight=4)
    assert not estate.gaps, estate.gaps
    assert counter.total > 30
    assert fake.connections <= 4 + 2  # the in-flight bound, plus the credential's own sign-in connections


@pytest.mark.slow  # every read, and the sign-in, retried against a proxy that refuses
def test_proxy_settings_of_the_environment_are_still_honoured(fake, monkeypatch):
    """The environment is read once per origin, not per request (transport.py): still read. A proxy that does
    not answer fails every read (a gap each), and nothing reaches the service behind it."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the discard port: nothing listens there
    estate, _ = live(fake, reader_principal=READER)
    assert estate.gaps and not estate.services
    assert not [r for r in fake.requests if r["path"].startswith(("/subscriptions", "/providers"))]


def test_discovery_is_one_resource_graph_query_with_paging(fake):
    estate, _ = live(fake)
    graph = [r for r in fake.requests if r["path"].lower() == "/providers/microsoft.resourcegraph/resources"]
    assert len(graph) == 2  # one service + two accounts, pages of two: $skipToken followed
    assert not any(p.endswith("/providers/Microsoft.ApiManagement/service") for _m, p in fake.calls())
    assert not any(p.endswith("/providers/Microsoft.CognitiveServices/accounts") for _m, p in fake.calls())
    assert {a.name for a in estate.accounts} == {"aoai-open", "aoai-closed"} and len(estate.services) == 1


def test_without_resource_graph_it_falls_back_to_arm_list_calls(fake):
    fake.graph_disabled = True
    estate, _ = live(fake)
    assert not estate.gaps and len(estate.services) == 1 and len(estate.accounts) == 2
    assert any(p.endswith("/providers/Microsoft.ApiManagement/service") for _m, p in fake.calls())


def test_reads_are_paced_by_the_remaining_reads_header_not_429s(fake):
    """ARM's read bucket refills at 25 a second per subscription and for the tenant (learn.microsoft.com/azure/
    azure-resource-manager/management/request-limits-and-throttling), here with a small bucket (the example needs
    about 40 reads). The fake's buckets and the pacer run on one virtual clock: time moves only by the pacer's
    waits, so the count of 429s cannot depend on how fast or loaded the machine is."""
    clock = VirtualClock()
    fake.throttle(15, 25, per_subscription=True, clock=clock)
    _, unpaced = live(fake, pacing=False, clock=clock)
    assert unpaced.statuses[429] > 0 and clock.sleeps == []  # without pacing the collection runs into the throttle
    clock = VirtualClock()
    fake.throttle(15, 25, per_subscription=True, clock=clock)
    estate, paced = live(fake, clock=clock)
    assert paced.statuses[429] == 0 and not estate.gaps  # with it, it waits for the refill instead
    assert paced.paced == pytest.approx(sum(clock.sleeps)) and paced.paced > 0


def test_a_token_that_expires_mid_run_is_renewed_before_it_expires(fake):
    # The SDK renews a token within 300 s of its expiry (MSAL's silent acquisition and azure-core's bearer policy
    # both keep that margin): one that lives 300 s is due for renewal as soon as it is issued, so the run needs
    # more than one whatever its speed (a token living a second longer needed the run to last a second).
    fake.token_lifetime = 300
    estate, counter = live(fake)
    assert not estate.gaps and fake.tokens_issued >= 2 and counter.statuses[401] == 0


def test_a_revoked_credential_fails_closed(fake, registry):
    fake.token_valid_for = 0.0  # every token is refused
    estate, _ = live(fake)
    result = run_audit(estate, registry, Settings())
    assert estate.gaps and all(g.status == 401 for g in estate.gaps)
    assert result.exit_code() == 2 and any(f.rule_id == "AU001" for f in result.findings)


def test_live_findings_match_the_offline_audit_of_the_same_estate(fake, registry):
    estate, _ = live(fake)
    live_result = run_audit(estate, registry, Settings())
    offline = run_audit(load_paths([str(EXAMPLE)]), registry, Settings())
    policy_rules = {r.id for r in offline.rules if r.id[:2] in ("TM", "HD", "ST", "SE") and r.id != "TM008"}
    pick = lambda res: {(f.rule_id, f.resource) for f in res.findings if f.rule_id in policy_rules}  # noqa: E731
    assert pick(live_result) == pick(offline) and pick(offline)
    got = {(f.rule_id, f.resource.rsplit("/", 1)[-1]) for f in live_result.findings}
    assert ("BY001", "aoai-open") in got and ("BY001", "aoai-closed") not in got
    assert ("DG001", "aoai-open") in got and ("DG001", "aoai-closed") not in got
    assert ("DG002", "contoso-apim") in got  # the service has no diagnostic setting in the fake


def test_forbidden_reads_fail_closed_with_the_permission_to_grant(fake, registry):
    fake.inject("GET", r"/apis/embeddings-search/policies/policy$",
                (403, {}, arm_error("AuthorizationFailed", "The client does not have authorization")))
    fake.inject("GET", r"/providers/Microsoft\.Insights/diagnosticSettings$",
                (403, {}, arm_error("AuthorizationFailed", "no diagnosticSettings/read")))
    estate, _ = live(fake)
    result = run_audit(estate, registry, Settings())
    au001 = [f for f in result.findings if f.rule_id == "AU001"]
    messages = " | ".join(f.message for f in au001)
    assert "403" in messages and "embeddings-search" in messages
    assert "API Management Service Reader" in messages and "Monitoring Reader" in messages
    assert result.exit_code() == 1  # AU001 is high: the gate never passes on what it could not see
    assert len(estate.services[0].apis) == 6  # the rest was still read


def test_throttling_is_retried_after_retry_after(fake):
    fake.inject("GET", r"/apis$", (429, {"Retry-After": "0.05"}, arm_error("TooManyRequests", "slow down")))
    fake.inject("GET", r"/products$", (503, {}, arm_error("ServiceUnavailable", "try again")))
    estate, counter = live(fake)
    assert not estate.gaps and len(estate.services[0].apis) == 6
    assert counter.statuses[429] == 1 and counter.statuses[503] == 1 and "1 throttled" in counter.summary()


def test_malformed_body_and_persistent_5xx_become_gaps(fake):
    fake.inject("GET", r"/backends$", (200, {"Content-Type": "application/json"}, b"{not json"))
    fake.inject("GET", r"/loggers$", *[(500, {}, arm_error("InternalServerError", "boom"))] * 4)
    estate, _ = live(fake)
    targets = {g.target.rsplit("/", 1)[-1]: g for g in estate.gaps}
    assert {"backends", "loggers"} <= set(targets)
    assert targets["loggers"].status == 500 and targets["loggers"].needs


def test_cli_scans_and_collects_live(fake, tmp_path):
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = dict(os.environ)
    base = [sys.executable, "-m", "aoai_audit.cli"]
    live_args = ["--subscription", SUB, "--arm-endpoint", fake.base_url]
    proc = subprocess.run([*base, "scan", *live_args, "--format", "json"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sources"][0]["kind"] == "live" and doc["sources"][0]["identity"] == READER
    assert "request(s)" in proc.stderr and "throttled" in proc.stderr  # the summary of what was sent
    snap = tmp_path / "tenant.json.gz"
    proc = subprocess.run([*base, "collect", *live_args, "--quiet", "-o", str(snap)], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    again = json.loads(subprocess.run([*base, "scan", str(snap), "--format", "json"], capture_output=True, text=True, cwd=ROOT).stdout)
    assert [(f["rule_id"], f["resource"], f["message"]) for f in again["findings"]] == \
        [(f["rule_id"], f["resource"], f["message"]) for f in doc["findings"]]
    assert fake.writes() == []
    assert "not-a-real-secret" not in snap.read_bytes().decode("latin-1")


def test_debug_log_of_a_live_run_holds_no_credential(fake):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "--log-level", "debug", "scan", "--subscription", SUB,
                           "--arm-endpoint", fake.base_url, "--quiet", "--no-usage", "-o", os.devnull],
                          env=dict(os.environ), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "DEBUG" in proc.stderr and "azure" in proc.stderr  # the SDKs' own debug records were on
    issued = {r["headers"].get("Authorization", "").removeprefix("Bearer ") for r in fake.requests} - {""}
    assert issued and not any(token.split(".")[1] in proc.stderr for token in issued)
    assert "not-a-real-secret" not in proc.stderr


def test_llm_logging_of_diagnostics_is_read_and_a_400_falls_back_to_the_sdk(fake):
    diags = [p for p in fake.collections if p.endswith("/service/contoso-apim/diagnostics")]
    (path,) = diags
    fake.collections[path][0]["properties"]["largeLanguageModel"] = {"logs": "enabled"}
    estate, _ = live(fake)
    assert next(d.llm_logging for d in estate.services[0].diagnostics) == "enabled"
    asked = [r["query"].get("api-version") for r in fake.requests if r["path"].lower() == path]
    assert asked == [["2024-06-01-preview"]]
    fake.inject("GET", r"/service/contoso-apim/diagnostics$", (400, {}, arm_error("InvalidApiVersionParameter", "no")))
    estate, _ = live(fake)
    assert not estate.gaps and estate.services[0].diagnostics  # read again with the SDK's own api-version


def test_workspace_policies_apis_and_fragments_are_read(monkeypatch, registry):
    from dataclasses import replace as dc_replace

    from aoai_audit.estate import Fragment, Workspace
    from aoai_audit.policy.rawxml import read_policy

    base = load_paths([str(EXAMPLE)])
    svc = base.services[0]
    chat = next(a for a in svc.apis if a.name == "chat-completions")
    ws_policy = read_policy('<policies><inbound><base /><include-fragment fragment-id="ws-tokens" /></inbound></policies>',
                            scope="workspace", label="workspace 'team-ws'")
    fragment = read_policy('<fragment><llm-emit-token-metric namespace="ws"><dimension name="Subscription ID" />'
                           "</llm-emit-token-metric></fragment>", scope="fragment", label="ws-tokens")
    svc = dc_replace(svc, workspaces=(Workspace("team-ws", ws_policy),),
                     apis=(*svc.apis, dc_replace(chat, name="ws-chat", workspace="team-ws")),
                     fragments=(*svc.fragments, Fragment("ws-tokens", fragment, "team-ws")))
    offline = dc_replace(base, services=(svc,))
    with FakeARM(tenant_from_estate(offline)) as srv:
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        estate, _ = live(srv)
    got = estate.services[0]
    assert not estate.gaps
    assert got.workspaces[0].name == "team-ws" and got.workspaces[0].policy is not None
    ws_api = next(a for a in got.apis if a.workspace == "team-ws")
    assert ws_api.name == "ws-chat" and ws_api.policy is not None and ws_api.operations
    assert any(f.workspace == "team-ws" for f in got.fragments)
    pick = lambda res: {(f.rule_id, f.resource) for f in res.findings if "/workspaces/" in f.resource}  # noqa: E731
    live_ws = pick(run_audit(estate, registry, Settings()))
    assert live_ws and live_ws == pick(run_audit(offline, registry, Settings()))
