"""A 403 on diagnostic settings or role assignments is unknown, not "none": the DG and RB rules say nothing
about what could not be read, and the failed read is the AU001 finding. Live path: the real SDK clients against
the fake ARM on loopback."""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from conftest import EXAMPLE
from fakearm import READER, SUB, FakeARM, add_account, add_role, arm_error, login_env, tenant_from_estate

FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"


@pytest.fixture()
def tenant(monkeypatch):
    tenant = tenant_from_estate(load_paths([str(EXAMPLE)]))
    rids = {
        "bare": add_account(tenant, "aoai-bare", local_auth=False, public="Disabled", diagnostics=False),
        "denied": add_account(tenant, "aoai-denied", local_auth=False, public="Disabled", diagnostics=False),
    }
    add_role(tenant, MONITORING_READER, f"/subscriptions/{SUB}", role_name="Monitoring Reader")
    with FakeARM(tenant) as srv:
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv, rids


def audit_live(srv, registry, **settings):
    options = LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(FAST))
    estate, _ = collect_live(options)
    return run_audit(estate, registry, Settings(**settings))


def by_rule(result, rule_id):
    return [f for f in result.findings if f.rule_id == rule_id]


def test_dg001_403_on_diagnostic_settings_is_au001_alone(tenant, registry):
    srv, rids = tenant
    srv.inject("GET", rids["denied"] + "/providers/Microsoft.Insights/diagnosticSettings$",
               (403, {}, arm_error("AuthorizationFailed", "no Microsoft.Insights/diagnosticSettings/read")))
    result = audit_live(srv, registry)
    dg001 = {f.resource for f in by_rule(result, "DG001")}
    assert dg001 == {rids["bare"]}  # really has none: still reported
    au001 = [f for f in by_rule(result, "AU001") if "aoai-denied" in f.resource]
    assert au001 and "403" in au001[0].message and "diagnosticSettings/read" in au001[0].message
    assert result.exit_code() == 1  # the gate fails on the AU001, not on a made-up DG001


def test_rb_rules_say_nothing_when_role_assignments_cannot_be_listed(tenant, registry):
    srv, _ = tenant
    srv.inject("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments$",
               (403, {}, arm_error("AuthorizationFailed", "no roleAssignments/read")))
    result = audit_live(srv, registry, reader_principal=READER)
    assert not [f for f in result.findings if f.rule_id in ("RB001", "RB002", "RB003", "RB005")]
    assert any("roleAssignments" in f.message or "roleAssignments" in f.resource for f in by_rule(result, "AU001"))


def test_rb001_still_fires_when_assignments_were_read_and_grant_nothing(tenant, registry):
    srv, _ = tenant
    srv.collections[f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments".lower()] = []
    result = audit_live(srv, registry, reader_principal=READER)
    assert by_rule(result, "RB001") and not by_rule(result, "AU001")


def test_tm008_403_on_loggers_is_au001_alone(tenant, registry):
    srv, _ = tenant
    assert "TM008" in {f.rule_id for f in audit_live(srv, registry).findings}  # read: the example's gap shows
    srv.inject("GET", r"/service/contoso-apim/loggers$", (403, {}, arm_error("AuthorizationFailed", "no loggers/read")))
    result = audit_live(srv, registry)
    assert "TM008" not in {f.rule_id for f in result.findings}
    assert any("loggers" in f.message for f in by_rule(result, "AU001"))
