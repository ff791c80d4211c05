"""Compare what the tool raises on real public files with the labels written by reading them (issue 15).

    python3 scripts/real_labels.py [REAL_DIR] [--labels tests/fixtures/real/labels.yaml]

REAL_DIR defaults to tests/fixtures/real (the files restored from their pinned commits; see its SOURCES.md). Prints one
line per wrong label and the count; exit 1 when any label is wrong. Uses only the installed package's public
entry points, so the same script measures any version (the "before" and "after" of a change).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.rules import load_registry
from aoai_audit.sources.detect import load_paths

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "fixtures" / "real" / "labels.yaml"
REAL = ROOT / "tests" / "fixtures" / "real"
# what a raw ARM expression leaves when it is not evaluated: `[concat(`, `parameters('x')`, `'), '2025-04-01')`
RAW_EXPRESSION = re.compile(r"\[[A-Za-z]+\(|\b(parameters|variables|reference|resourceId|format|concat)\('|'\), '|\)\]$")
CRASH = "failed and did not evaluate"


@dataclass(frozen=True)
class Wrong:
    file: str
    label: str  # e.g. "must_fire TM001", "llm_api openai"
    got: str

    def __str__(self) -> str:
        return f"{self.file}: {self.label} — {self.got}"


def load_labels(path: Path = LABELS) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {k: v or {} for k, v in data.items()}


def check_file(real: Path, rel: str, labels: dict[str, list[str]], registry=None) -> list[Wrong]:
    """Every label of one file that the tool gets wrong, plus crashes and raw expression fragments."""
    estate = load_paths([str(real / rel)])
    result = run_audit(estate, registry or load_registry(), Settings())
    fired = {f.rule_id for f in result.findings}
    wrong: list[Wrong] = []
    for rule in labels.get("must_fire", []):
        if rule not in fired:
            wrong.append(Wrong(rel, f"must_fire {rule}", "did not fire"))
    for rule in labels.get("must_not_fire", []):
        hits = [f for f in result.findings if f.rule_id == rule]
        if hits:
            wrong.append(Wrong(rel, f"must_not_fire {rule}", f"fired: {hits[0].message[:120]}"))
    verdicts = {v.api.name: v.verdict for v in result.ctx.apis}
    for api in labels.get("llm_apis", []):
        verdict = verdicts.get(api)
        if verdict is None or not verdict.is_llm:
            got = "no such API: " + ", ".join(sorted(verdicts)) if verdict is None else "; ".join(verdict.reasons)
            wrong.append(Wrong(rel, f"llm_api {api}", got[:160]))
    for api in labels.get("not_llm_apis", []):
        verdict = verdicts.get(api)
        if verdict is None or verdict.is_llm:
            got = "no such API" if verdict is None else "; ".join(verdict.reasons)
            wrong.append(Wrong(rel, f"not_llm_api {api}", got[:160]))
    for f in result.findings:
        if CRASH in f.message:
            wrong.append(Wrong(rel, f"no crash {f.rule_id}", f.message[:160]))
    names = [f.resource for f in result.findings] + [f.message for f in result.findings]
    names += [v.api.name for v in result.ctx.apis] + [s.name for s in estate.services]
    raw = sorted({n for n in names if RAW_EXPRESSION.search(n)})
    if raw:
        wrong.append(Wrong(rel, "no raw expression fragments", raw[0][:160]))
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", nargs="?", default=str(REAL))
    parser.add_argument("--labels", default=str(LABELS))
    args = parser.parse_args(argv)
    real = Path(args.real)
    if not real.is_dir():
        print(f"{real}: no such directory (the real files; see tests/fixtures/real/SOURCES.md)", file=sys.stderr)
        return 2
    registry = load_registry()
    labels = load_labels(Path(args.labels))
    total = sum(len(v.get(k, [])) for v in labels.values() for k in ("must_fire", "must_not_fire", "llm_apis",
                                                                      "not_llm_apis"))
    wrong = [w for rel, lab in labels.items() for w in check_file(real, rel, lab, registry)]
    for w in wrong:
        print(w)
    print(f"{len(wrong)} wrong of {total} labels (+ crash and raw-expression checks) on {len(labels)} files")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
