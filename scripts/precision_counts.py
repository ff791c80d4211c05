"""Findings per file on public folders, for the before/after of a precision change (issue 24).

    python scripts/precision_counts.py PATH... [--json OUT]

Each file (or APIOps folder) given, or every file under a plain folder, is audited on its own. Prints, per
path, the finding count by severity, then every HIGH finding (rule, resource, message head). Uses only the
installed package's public entry points, so the same script measures any version.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.rules import load_registry
from aoai_audit.sources.detect import load_paths


def _targets(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not any(c.name in ("apis", "policy.xml") for c in p.iterdir()):
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in (".xml", ".json") and f.name != "SOURCES.md")
        else:
            out.append(p)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--json")
    args = parser.parse_args()
    registry = load_registry()
    totals: Counter[str] = Counter()
    rows = {}
    for path in _targets(args.paths):
        result = run_audit(load_paths([str(path)]), registry, Settings())
        sev = Counter(f.severity.value for f in result.findings)
        totals.update(sev)
        highs = [(f.rule_id, f.resource, f.message[:150]) for f in result.findings if f.severity.value == "high"]
        rows[str(path)] = {"counts": dict(sev), "rules": dict(Counter(f.rule_id for f in result.findings)),
                           "high": highs, "crashed": [c.rule_id for c in result.crashed]}
        print(f"{path}: {sum(sev.values())} findings {dict(sorted(sev.items()))}")
        for h in highs:
            print(f"   HIGH {h[0]} {h[1]} :: {h[2]}")
    print(f"TOTAL {sum(totals.values())} {dict(sorted(totals.items()))}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
