"""Tenant scale: subscriptions read side by side, each under its own read budget, and the sharding recipe of
docs/ci/ (collect slices of subscriptions, scan every snapshot together) giving the unsharded report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from aoai_audit.snapshot import snapshot_document
from aoai_audit.sources.detect import load_paths
from aoai_audit.sources.live.collector import collect_live
from aoai_audit.sources.live.options import LiveOptions
from aoai_audit.sources.live.pacing import SubscriptionPacers
from clock import VirtualClock
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
        # ARM's model: a bucket per subscription and one for tenant-level reads; small, so pacing matters. On wall
        # time (worker processes cannot share a virtual clock), refilled 16 times faster than the pacers assume
        # (25 a second), so their estimate of what is left never exceeds the bucket whatever the machine's load.
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
    """ARM's refill rate (25 reads a second per subscription and for the tenant, request-limits-and-throttling)
    on a virtual clock shared by the fake's buckets and the pacers: no 429 whatever the machine's load."""
    clock = VirtualClock()
    tenant.throttle(40, 25, per_subscription=True, clock=clock)

    def collect(width: int):
        return collect_live(LiveOptions(subscriptions=SUBS, arm_endpoint=tenant.base_url, client_kwargs=dict(FAST),
                                        max_subscriptions=width, clock=clock))

    parallel, counter = collect(len(SUBS))
    assert not parallel.gaps, parallel.gaps
    assert counter.statuses[429] == 0  # each subscription paced by its own remaining-reads header
    assert [s.resource_id.split("/")[2] for s in parallel.services] == list(SUBS)  # merged in the order given
    sequential, _ = collect(1)
    assert snapshot_document(parallel)["estate"] == snapshot_document(sequential)["estate"]
    assert tenant.writes() == []


def _undated(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "created"}


@pytest.mark.slow  # spawns worker processes
def test_slices_read_in_processes_give_the_estate_of_one_process(tenant):
    """--jobs: slices of the subscriptions read by worker processes (real SDK clients in each, against the fake
    over TLS), merged into the estate a single process reads, in the order given."""
    def collect(jobs: int):
        return collect_live(LiveOptions(subscriptions=SUBS, arm_endpoint=tenant.base_url, client_kwargs=dict(FAST),
                                        jobs=jobs))

    before = len(tenant.requests)
    sliced, counter = collect(2)
    assert not sliced.gaps, sliced.gaps
    arm = [r for r in tenant.requests[before:] if r["path"].startswith(("/subscriptions", "/providers"))]
    assert counter.total == len(arm) > 0  # the workers' requests are counted in the parent (sign-ins are not)
    assert counter.statuses[429] == 0
    assert [s.resource_id.split("/")[2] for s in sliced.services] == list(SUBS)
    single, _ = collect(1)
    # the same document but for when it was made (`created` is to the second: two reads can straddle one)
    assert _undated(snapshot_document(sliced)) == _undated(snapshot_document(single))
    assert tenant.writes() == []


@pytest.mark.slow  # spawns worker processes
def test_a_slice_whose_process_fails_is_a_gap_for_each_of_its_subscriptions(tenant):
    """Fail closed: a worker whose reading raises (here: a pool of no threads) leaves gaps naming every
    subscription of its slice, not an estate that looks complete."""
    estate, _ = collect_live(LiveOptions(subscriptions=SUBS, arm_endpoint=tenant.base_url, jobs=2,
                                         client_kwargs=dict(FAST), max_workers=0))
    assert sorted(g.target for g in estate.gaps) == sorted(f"/subscriptions/{s}" for s in SUBS)
    assert all("max_workers" in g.message for g in estate.gaps)  # the worker's error, carried back
    assert not estate.services


def test_client_options_that_cannot_cross_processes_keep_the_run_in_one(tenant):
    """An embedding caller's own pipeline policy cannot be sent to a worker process: one process reads, with it."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    seen = []

    class Spy(SansIOHTTPPolicy):  # defined in a function: a spawned process could not unpickle it
        def on_request(self, request):
            seen.append(request.http_request.url)

    estate, _ = collect_live(LiveOptions(subscriptions=SUBS, arm_endpoint=tenant.base_url, jobs=2,
                                         client_kwargs={**FAST, "per_retry_policies": [Spy()]}))
    assert not estate.gaps, [g.message for g in estate.gaps][:3]
    assert len(estate.services) == len(SUBS)
    assert seen  # the caller's policy ran, in this process


def _step(job: dict, name: str) -> dict:
    return next(step for step in job["steps"] if step.get("name") == name)


def _uses(job: dict, action: str) -> dict:
    return next(step for step in job["steps"] if step.get("uses", "").startswith(action))


def _comparable(path) -> dict:
    doc = json.loads(path.read_text())
    doc.pop("generated_at")
    doc.pop("sources")  # where the estate came from: the only part that differs (snapshots vs live) ...
    doc["not_evaluated"] = [r["rule_id"] for r in doc["not_evaluated"]]  # ... and is named in these reasons
    if doc.get("usage"):
        doc["usage"].pop("origin")  # "live + live" (one per snapshot read) against "live + live + live + live"
    return doc


@pytest.mark.slow  # runs the workflow's shell steps and the CLI
def test_sharded_workflow_collects_slices_and_one_scan_equals_the_unsharded_scan(tenant, tmp_path):
    """docs/ci/sharded-audit.yml, its own shell steps run here: each matrix job collects its slice, the scan job
    scans every snapshot; the only stand-in is `aoai-audit` pointed at the fake ARM instead of Azure."""
    workflow = yaml.safe_load((ROOT / "docs/ci/sharded-audit.yml").read_text())
    collect_job, scan_job = workflow["jobs"]["collect"], workflow["jobs"]["scan"]
    assert scan_job["needs"] == "collect"
    shards = collect_job["strategy"]["matrix"]["include"]
    assert len(shards) == 2 and sorted(s for shard in shards for s in shard["subscriptions"].split()) == list(SUBS)
    wrapper = tmp_path / "bin" / "aoai-audit"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = collect ]; then set -- "$@" --arm-endpoint {tenant.base_url}; fi\n'
                       f'exec {sys.executable} -m aoai_audit.cli "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    collect = _step(collect_job, "Collect this shard's subscriptions")
    upload = _uses(collect_job, "actions/upload-artifact")["with"]["path"]
    download = _uses(scan_job, "actions/download-artifact")["with"]["path"]
    scan_dir = tmp_path / "scan-job"
    (scan_dir / download).mkdir(parents=True)
    for shard in shards:
        job_dir = tmp_path / f"collect-{shard['shard']}"
        job_dir.mkdir()
        step_env = {**env, "SHARD": shard["shard"], "SUBSCRIPTIONS": shard["subscriptions"]}
        proc = subprocess.run(["bash", "-e", "-c", collect["run"]], env=step_env, cwd=job_dir, capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr
        for snap in (job_dir / upload).iterdir():  # upload-artifact, then download-artifact with merge-multiple
            shutil.copy(snap, scan_dir / download / snap.name)
    proc = subprocess.run(["bash", "-e", "-c", _step(scan_job, "Scan every snapshot together")["run"]], env=env,
                          cwd=scan_dir, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # the gate: the example estate has high findings
    unsharded = tmp_path / "unsharded.json"
    subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", *[a for sub in SUBS for a in ("--subscription", sub)],
                    "--arm-endpoint", tenant.base_url, "--quiet", "--format", "json", "-o", str(unsharded)],
                   env=env, capture_output=True, check=False)
    sharded = _comparable(scan_dir / "report" / "aoai-audit.json")
    assert sharded["findings"] and sharded["summary"]["services"] == len(SUBS)
    assert sharded == _comparable(unsharded)
