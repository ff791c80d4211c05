"""Inject each live fault class into the test suite's fake ARM and print what the audit made of it (Markdown).

    python3 scripts/fault_table.py
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from aoai_audit.config import Settings  # noqa: E402
from aoai_audit.engine import run_audit  # noqa: E402
from aoai_audit.rules import load_registry  # noqa: E402
from aoai_audit.sources.detect import load_paths  # noqa: E402
from aoai_audit.sources.live.collector import collect_live  # noqa: E402
from aoai_audit.sources.live.options import LiveOptions  # noqa: E402
from fakearm import SUB, FakeARM, login_env, tenant_from_estate  # noqa: E402
from fault_cases import cases  # noqa: E402
from test_live_faults import KW  # noqa: E402


def main() -> None:
    registry = load_registry()
    tenant = tenant_from_estate(load_paths([str(ROOT / "fixtures" / "example" / "contoso-apim")]))
    print("| fault | outcome | attempts | what the report said | gate | writes |")
    print("|---|---|---:|---|---|---:|")
    names = [c.name for c in cases("https://x")]
    for name in names:
        with FakeARM(tenant) as srv:
            os.environ.update(login_env(srv))
            (fault,) = [c for c in cases(srv.base_url) if c.name == name]
            srv.inject(fault.method, fault.path, *fault.responses)
            start = time.monotonic()
            estate, _ = collect_live(LiveOptions(subscriptions=(SUB,), arm_endpoint=srv.base_url,
                                                       client_kwargs=dict(KW)))
            took = time.monotonic() - start
            result = run_audit(estate, registry, Settings())
            au = [f for f in result.findings if f.rule_id == "AU001"]
            hits = [r for r in srv.requests if re.search(fault.path, r["path"], re.I)]
            said = au[0].message[:150].replace("|", "/") if au else "no AU001: the data was read"
            outcome = "AU001" if au else ("retried, read" if len(hits) > 1 else "read")
            print(f"| {name} | {outcome} ({took:.1f}s) | {len(hits)} | {said} | exit {result.exit_code()} | "
                  f"{len(srv.writes())} |")


if __name__ == "__main__":
    main()
