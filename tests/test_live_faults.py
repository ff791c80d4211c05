"""Every live fault class ends as a retry that succeeds or an AU001 finding; nothing crashes or hangs,
the gate fails closed, and what was read is still reported."""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from conftest import EXAMPLE
from fakearm import SUB, FakeARM, login_env, tenant_from_estate
from fault_cases import APIS, READ_TIMEOUT, RETRIES, cases

KW = {"retry_total": RETRIES, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": READ_TIMEOUT,
      "connection_timeout": 2}
# the timeouts wait for the read timeout on every attempt
NAMES = [pytest.param(c.name, marks=pytest.mark.slow) if "timeout" in c.name else c.name for c in cases("https://x")]


@pytest.fixture()
def fake(monkeypatch):
    with FakeARM(tenant_from_estate(load_paths([str(EXAMPLE)]))) as srv:
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def run_fault(srv, fault, registry):
    srv.inject(fault.method, fault.path, *fault.responses)
    estate, counter = collect_live(LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url, client_kwargs=dict(KW)))
    return estate, counter, run_audit(estate, registry, Settings())


@pytest.mark.parametrize("name", NAMES)
def test_fault_is_retried_or_reported(fake, registry, name):
    (fault,) = [c for c in cases(fake.base_url) if c.name == name]
    estate, _, result = run_fault(fake, fault, registry)
    au = [f for f in result.findings if f.rule_id == "AU001"]
    assert estate.services and estate.services[0].loggers and estate.services[0].products  # the rest was read
    assert estate.services[0].apis or fault.path == APIS
    if fault.expect == "retried":
        assert not au, [f.message for f in au]
    else:
        assert any(fault.where in f.resource or fault.where in f.message for f in au), [f.message for f in au]
        assert result.exit_code() != 0  # fails closed
    assert fake.writes() == []
