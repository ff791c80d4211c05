"""Live responses are bounded: a list page past MAX_BODY is streamed, stopped, and an AU001 naming what could
not be read, never gigabytes of memory. The real SDK clients against the fake ARM on loopback."""

from __future__ import annotations

import resource

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.sources.live.transport import MAX_BODY
from conftest import EXAMPLE
from fakearm import SUB, FakeARM, login_env, tenant_from_estate

KW = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 30,
      "connection_timeout": 5}


@pytest.fixture()
def fake(monkeypatch):
    with FakeARM(tenant_from_estate(load_paths([str(EXAMPLE)]))) as srv:
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def test_a_huge_list_page_is_stopped_and_named(fake, registry):
    fake.inject("GET", r"/service/[^/]+/apis$", (200, {}, ("HUGE", MAX_BODY * 4)))  # 256 MiB, streamed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    estate, _counter = collect_live(LiveOptions(subscriptions=(SUB,), arm_endpoint=fake.base_url,
                                                client_kwargs=dict(KW)))
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    result = run_audit(estate, registry, Settings())
    au = [f for f in result.findings if f.rule_id == "AU001"]
    assert any("/apis" in f.resource and "over 64 MiB" in f.message for f in au), [f.message for f in au]
    assert grown_kb < 3 * MAX_BODY // 1024  # the body was never held whole: a bound, not a timing
    assert estate.services and estate.services[0].loggers  # the rest was read
    assert result.exit_code() != 0 and fake.writes() == []
