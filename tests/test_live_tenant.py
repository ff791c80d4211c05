"""Tenant scale: subscriptions read side by side, each under its own read budget, and the sharding recipe of
docs/ci/ (collect slices of subscriptions, scan every snapshot together) giving the unsharded report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aoai_audit.snapshot import snapshot_document
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live import LiveOptions, collect_live
from aoai_audit.sources.pacing import SubscriptionPacers
from conftest import EXAMPLE, ROOT
from fakearm import FakeARM, login_env, tenant_from_estate

SUBS = tuple(f"00000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))
FAST = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


@pytest.fixture()
def tenant(monkeypatch):
    estate = load_paths([str(EXAMPLE)])
    with FakeARM(page_size=50) as srv:
        for sub in SUBS:
            srv.load(tenant_from_estate(estate, sub=sub))
        # ARM's model: a bucket per subscription and one for tenant-level reads; small, so pacing matters
        srv.throttle(40, 400, per_subscription=True)
        for name, value in login_env(srv).items():
            monkeypatch.setenv(name, value)
        yield srv


def test_pacers_are_per_subscription_with_one_for_tenant_reads():
    pacers = SubscriptionPacers()
    a = pacers.for_url(f"https://management.azure.com/subscriptions/{SUBS[0]}/resourceGroups/rg?api-version=1")
    assert a is pacers.for_url(f"https://management.azure.com/subscriptions/{SUBS[0].upper()}/providers/x")
    assert a is not pacers.for_url(f"https://management.azure.com/subscriptions/{SUBS[1]}/resourceGroups/rg")
    tenant = pacers.for_url("https://management.azure.com/providers/Microsoft.ResourceGraph/resources")
    assert tenant is pacers.for_url("https://management.azure.com/subscriptions?api-version=2022-12-01")
    assert tenant is not a


def test_subscriptions_side_by_side_read_the_same_estate_as_one_after_another(tenant):
    def collect(width: int):
        return collect_live(LiveOptions(subscriptions=SUBS, arm_endpoint=tenant.base_url, client_kwargs=dict(FAST),
                                        max_subscriptions=width))

    parallel, counter = collect(len(SUBS))
    assert not parallel.gaps, parallel.gaps
    assert counter.statuses[429] == 0  # each subscription paced by its own remaining-reads header
    assert [s.resource_id.split("/")[2] for s in parallel.services] == list(SUBS)  # merged in the order given
    sequential, _ = collect(1)
    assert snapshot_document(parallel)["estate"] == snapshot_document(sequential)["estate"]
    assert tenant.writes() == []


def _report(args: list[str], cwd) -> dict:
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", *args], capture_output=True, text=True, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    doc.pop("generated_at")
    doc.pop("sources")  # where the estate came from: the only part that differs (snapshots vs live) ...
    doc["not_evaluated"] = [r["rule_id"] for r in doc["not_evaluated"]]  # ... and is named in these reasons
    return doc


def test_sharded_collect_then_one_scan_equals_the_unsharded_scan(tenant, tmp_path):
    """docs/ci/sharded-audit.yml: matrix jobs `collect` slices of subscriptions, one job scans them all."""
    live = ["--arm-endpoint", tenant.base_url, "--quiet", "--no-usage"]
    slices = [SUBS[:2], SUBS[2:]]
    snapshots = []
    for i, part in enumerate(slices):
        snap = tmp_path / f"slice-{i}.json.gz"
        args = [a for sub in part for a in ("--subscription", sub)]
        proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "collect", *args, *live, "-o", str(snap)],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        snapshots.append(str(snap))
    sharded = _report(["scan", *snapshots, "--format", "json"], ROOT)
    unsharded = _report(["scan", *[a for sub in SUBS for a in ("--subscription", sub)], *live, "--format", "json"],
                        ROOT)
    assert sharded["findings"] and sharded["summary"]["services"] == len(SUBS)
    assert sharded == unsharded
