"""Live benchmark: the real SDK collection against the test suite's fake ARM with realistic latency and ARM's
read throttling (a token bucket per principal), against the floor the throttle and latency allow.

    python3 benchmarks/bench_live.py [--services 50 --apis 100] [--latency 0.05 0.1] [--bucket 250 --refill 25]
                                     [--sequential-sample 200]

Floor = max((reads − bucket) / refill, the longest chain of dependent reads × mean latency). The sequential
figure is measured with one worker on a sample of APIs and scaled per API (a full sequential run of 5,000
APIs takes the better part of an hour). Writes benchmarks/results-live.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, os.path.join(ROOT, "tests")]

from results import publish  # noqa: E402
from synth import write_estate  # noqa: E402

from aoai_audit.sources.detect import load_paths  # noqa: E402
from aoai_audit.sources.live import LiveOptions, collect_live  # noqa: E402
from fakearm import SUB, FakeARM, login_env, tenant_from_estate  # noqa: E402

CHAIN = 6  # Resource Graph → service → API list page → operations → operation policy, plus the token


def run(tenant, latency, bucket, refill, workers: int, pacing: bool = True):
    with FakeARM(tenant, page_size=100, latency=latency) as srv:
        os.environ.update(login_env(srv, "bench"))
        srv.throttle(bucket, refill)
        start = time.monotonic()
        estate, counter = collect_live(LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url,
                                                   max_workers=workers, pacing=pacing))
        wall = time.monotonic() - start
        apis = sum(len(s.apis) for s in estate.services)
        return wall, counter, apis, len(estate.gaps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=50)
    ap.add_argument("--apis", type=int, default=100, help="APIs per service")
    ap.add_argument("--latency", type=float, nargs=2, default=[0.05, 0.1])
    ap.add_argument("--bucket", type=int, default=250)
    ap.add_argument("--refill", type=float, default=25.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sequential-sample", type=int, default=100, help="APIs in the one-worker run (0: skip)")
    args = ap.parse_args()
    latency = tuple(args.latency)
    mean_latency = sum(latency) / 2
    with tempfile.TemporaryDirectory() as tmp:
        write_estate(tmp, args.services * args.apis, services=args.services)
        estate = load_paths([os.path.join(tmp, d) for d in sorted(os.listdir(tmp))])
    tenant = tenant_from_estate(estate)
    wall, counter, apis, gaps = run(tenant, latency, args.bucket, args.refill, args.workers)
    reads = counter.total - counter.statuses[429]  # what the audit needed; 429s are counted apart
    floor = max((reads - args.bucket) / args.refill, CHAIN * mean_latency)
    rows = [("parallel, paced", args.workers, apis, counter, counter.statuses[429], counter.paced, wall, gaps)]
    seq_per_api = None
    if args.sequential_sample:
        sample = min(args.sequential_sample, apis)
        with tempfile.TemporaryDirectory() as tmp:
            write_estate(tmp, sample, services=1)
            small = tenant_from_estate(load_paths([os.path.join(tmp, d) for d in sorted(os.listdir(tmp))]))
        s_wall, s_counter, s_apis, s_gaps = run(small, latency, args.bucket, args.refill, 1)
        seq_per_api = s_wall / s_apis
        rows.append(("sequential (1 worker), sample", 1, s_apis, s_counter, s_counter.statuses[429],
                     s_counter.paced, s_wall, s_gaps))
    lines = [
        "# Live benchmark", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. Fake ARM on "
        f"127.0.0.1 over TLS, latency {latency[0] * 1000:.0f}–{latency[1] * 1000:.0f} ms per call, read throttling "
        f"{args.bucket} reads refilled at {args.refill:g}/s (429 + Retry-After when empty), pages of 100. "
        f"Estate: {args.services} services × {args.apis} APIs. Usage reads are not included.", "",
        "| run | workers | APIs | reads | 429s | paced (thread-seconds) | wall (s) | gaps |", "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:,} | {r[3].total - r[4]:,} | {r[4]} | {r[5]:.1f} | {r[6]:.1f} | {r[7]} |"
              for r in rows]
    per_api = reads / apis if apis else 0
    lines += ["", "| figure | value | goal | met |", "|---|---:|---|---|",
              f"| floor: max((reads − {args.bucket}) / {args.refill:g}/s, {CHAIN} chained reads × latency) | {floor:.1f} s | | |",
              f"| wall / floor | {wall / floor:.2f}× | ≤ 1.3× | {'yes' if wall / floor <= 1.3 else 'no'} |",
              f"| reads per API | {per_api:.2f} | ≤ 3 | {'yes' if per_api <= 3 else 'no'} |"]
    if seq_per_api:
        seq_total = seq_per_api * apis
        lines.append(f"| sequential estimate ({seq_per_api * 1000:.0f} ms/API × {apis:,} APIs) / parallel wall | "
                     f"{seq_total / wall:.1f}× | ≥ 8× | {'yes' if seq_total / wall >= 8 else 'no'} |")
    publish("live", lines)


if __name__ == "__main__":
    main()
