"""Live benchmark at tenant scale: the real SDK collection against the test suite's fake ARM with realistic
latency and ARM's read throttling, a token bucket per subscription (and one for tenant-level reads) as ARM
meters them, against the floor that throttle and latency allow.

    python3 benchmarks/bench_live.py [--subscriptions 20 --services 5 --apis 50] [--latency 0.05 0.1]
                                     [--bucket 250 --refill 25]

Floor of a subscription = max((its reads − bucket) / refill, the longest chain of dependent reads × mean
latency). Subscriptions are metered apart, so the tenant's floor is its largest subscription's floor.
Reads per API: the APIM REST API has no call that returns the policies of many operations, so an API costs
at least 3 + its operations (API policy, operation list, API diagnostics, one policy per operation); the
service-level reads (lists, products, fragments, diagnostics) come on top, shared by the service's APIs.
Opt-in: not part of the test run. Writes benchmarks/results-live.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, os.path.join(ROOT, "tests")]

from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

from aoai_audit.sources.detect import load_paths  # noqa: E402
from aoai_audit.sources.live.collector import collect_live  # noqa: E402
from aoai_audit.sources.live.options import LiveOptions, worker_processes  # noqa: E402
from fakearm import FakeARM, login_env, tenant_from_estate  # noqa: E402

CHAIN = 6  # Resource Graph → service → API list page → operations → operation policy, plus the token


def _serve(conn, subs: list[str], estate, latency, args) -> None:
    with FakeARM(page_size=100, latency=latency) as srv:
        for sub in subs:
            srv.load(tenant_from_estate(estate, sub=sub))
        srv.throttle(args.bucket, args.refill, per_subscription=True)
        conn.send((srv.base_url, login_env(srv, "bench")))
        conn.recv()
        per_sub: Counter[str] = Counter()
        for r in srv.requests:
            m = re.match(r"/subscriptions/([^/]+)/", r["path"], re.I)
            if m:
                per_sub[m.group(1).lower()] += 1
        conn.send((per_sub, time.process_time(), srv.connections))


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the collector's worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscriptions", type=int, default=20)
    ap.add_argument("--services", type=int, default=5, help="services per subscription")
    ap.add_argument("--apis", type=int, default=50, help="APIs per service")
    ap.add_argument("--latency", type=float, nargs=2, default=[0.05, 0.1])
    ap.add_argument("--bucket", type=int, default=250)
    ap.add_argument("--refill", type=float, default=25.0)
    ap.add_argument("--max-workers", type=int, default=LiveOptions.max_workers, help="threads per pool (LiveOptions)")
    ap.add_argument("--max-in-flight", type=int, default=LiveOptions.max_in_flight)
    ap.add_argument("--jobs", type=int, default=None, help="collector processes (default: the tool's, one per core)")
    args = ap.parse_args()
    latency = tuple(args.latency)
    subs = [f"00000000-0000-0000-0000-{i + 1:012d}" for i in range(args.subscriptions)]
    with tempfile.TemporaryDirectory() as tmp:
        write_estate(tmp, args.services * args.apis, services=args.services)
        estate = load_paths([os.path.join(tmp, d) for d in sorted(os.listdir(tmp))])
    ops = sum(len(a.operations) for s in estate.services for a in s.apis)
    apis_per_sub = sum(len(s.apis) for s in estate.services)
    # The fake ARM runs in a process of its own, so its CPU (TLS, JSON) is not charged to the collector's.
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(child, subs, estate, latency, args))
    server.start()
    base_url, env = parent.recv()
    os.environ.update(env)
    cpu0 = _cpu()
    start = time.monotonic()
    options = LiveOptions(subscriptions=tuple(subs), arm_endpoint=base_url, max_workers=args.max_workers,
                          max_in_flight=args.max_in_flight, jobs=args.jobs)
    collected, counter = collect_live(options)
    wall = time.monotonic() - start
    client_cpu = _cpu() - cpu0  # the worker processes have ended and are reaped; the fake ARM's has not
    parent.send("stop")
    per_sub, server_cpu, connections = parent.recv()
    server.join()
    apis = sum(len(s.apis) for s in collected.services)
    throttled = counter.statuses[429]
    reads = counter.total - throttled
    _sub, largest = per_sub.most_common(1)[0]
    floor = max((largest - args.bucket) / args.refill, CHAIN * sum(latency) / 2)
    sub_reads_per_api = largest / apis_per_sub
    api_floor = 3 + ops / apis_per_sub
    lines = [
        "# Live benchmark (tenant scale)", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. Fake ARM on "
        f"127.0.0.1 over TLS, latency {latency[0] * 1000:.0f}–{latency[1] * 1000:.0f} ms per call, read throttling per "
        f"subscription (and for tenant reads): {args.bucket} reads refilled at {args.refill:g}/s, 429 + Retry-After "
        f"when empty; pages of 100. Tenant: {args.subscriptions} subscriptions × {args.services} services × "
        f"{args.apis} APIs ({ops / apis_per_sub:.2f} operations per API). Usage reads are not included.", "",
        "| figure | value | goal | met |", "|---|---:|---|---|",
        f"| APIs read | {apis:,} of {apis_per_sub * args.subscriptions:,} | all | {'yes' if apis == apis_per_sub * args.subscriptions else 'no'} |",
        f"| reads (all subscriptions) | {reads:,} | | |",
        f"| largest subscription: reads | {largest:,} | | |",
        f"| its floor: max(({largest:,} − {args.bucket}) / {args.refill:g}/s, {CHAIN} chained reads × latency) | {floor:.1f} s | | |",
        f"| wall time | {wall:.1f} s | | |",
        f"| wall / largest subscription's floor | {wall / floor:.2f}× | ≤ 1.2× | {'yes' if wall / floor <= 1.2 else 'no'} |",
        f"| 429 responses | {throttled} | 0 | {'yes' if throttled == 0 else 'no'} |",
        f"| reads per API (largest subscription, service reads included) | {sub_reads_per_api:.2f} | "
        f"floor {api_floor:.2f} = 3 + operations per API | {'at floor + ' + format(sub_reads_per_api - api_floor, '.2f')} |",
        f"| gaps | {len(collected.gaps)} | 0 | {'yes' if not collected.gaps else 'no'} |",
        f"| paced (thread-seconds waiting for read budget) | {counter.paced:.0f} | | |",
        f"| collector processes (--jobs) | {worker_processes(options, len(subs))} | | |",
        f"| collector CPU per read (all its processes: SDK pipeline, TLS, JSON, policy parsing) | "
        f"{client_cpu / max(counter.total, 1) * 1000:.2f} ms | | |",
        f"| TLS connections the collector opened | {connections:,} | | |",
        f"| fake ARM CPU per read (its own process) | {server_cpu / max(counter.total, 1) * 1000:.2f} ms | | |",
        f"| reads per second the collector's CPU allows per core | {counter.total / max(client_cpu, 1e-9):.0f} | "
        f"{args.subscriptions} × {args.refill:g} = {args.subscriptions * args.refill:g} needed at the floor | |",
    ]
    publish("live", lines)


if __name__ == "__main__":
    main()
