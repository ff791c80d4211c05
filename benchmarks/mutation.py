"""Mutation score of the rules and the money path (opt-in, never in CI): which changes to the logic no test notices.

An auditor that gates CI must not pass a gap because a comparison flipped. This script applies mutmut's operators
one at a time to the product logic (comparison flips, `and`/`or` swaps, arithmetic swaps, constant changes,
`break`/`continue` swaps, return values, string changes, `not` removed), in memory: the mutated module is compiled
from the changed syntax tree and served by an import hook inside the pytest process, so no file in the tree is
ever rewritten. Each mutant runs only against the tests that executed its line (a coverage run whose context is
the pytest node id), fastest first, stopping at the first failure, with a per-mutant timeout (retried once; a
timeout on a loaded machine says nothing either way, so it is listed and not scored).

    python benchmarks/mutation.py map                 # coverage run of the suite: line → tests (once per tree)
    python benchmarks/mutation.py map --add --since REV tests/test_branches_x.py   # new tests into a map made on REV
    python benchmarks/mutation.py run [--sample 300] [--per-module 8] [--seed 29] [--only checks/by001*]
    python benchmarks/mutation.py list --only checks/tm002*   # the mutants, without running them
    python benchmarks/mutation.py report --name before        # a saved run, scored with today's equivalents
    python benchmarks/mutation.py check --name pm-after --only checks/tm002* -- tests/test_branches_tm.py
                                      # the survivors of a saved run, against the tests given (writing tests)

Not mutated (prose, not logic): docstrings, the literal text of f-string messages, the `RULE = Rule(...)`
metadata, annotations. Tests run in a subprocess (the CLI, the wheel) do not see the mutant, and the coverage map
does not see them either; a mutant no in-process test executes counts as surviving. Mutants listed in
benchmarks/mutation_equivalent.txt (path, source line, mutation, reason; tab-separated) change no behaviour and
are left out of the score. Results: benchmarks/results-mutation.md (the table) and benchmarks/.work/mutation/.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import mutants as mut
from mutant_tests import READ_AT_IMPORT, focus, importers
from mutants import (
    ENV,
    EQUIVALENT,
    MAP_IGNORE,
    ROOT,
    TARGETS,
    WORK,
    Mutant,
    mutants_of,
    target_files,
)


def _pytest_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    paths = [str(ROOT / "benchmarks")] + ([str(mut.SRC / "_import")] if mut.SRC != ROOT else [])
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AOAI_MUTANT_ROOT"] = str(mut.SRC)
    env.update(extra)
    return env


def extract_tree(rev: str) -> Path:
    """`rev`'s files under WORK, importable as aoai_audit ahead of this checkout's editable install (the import
    system's path finder comes before setuptools' editable finder), its tests reading its own fixtures."""
    tree = WORK / f"tree-{rev.replace('/', '_')}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (tree / "_import").mkdir()
        (tree / "_import" / "aoai_audit").symlink_to(tree / "auditor")
        (tree / "auditor" / "checks").symlink_to(tree / "checks")
        (tree / "auditor" / "report_templates").symlink_to(tree / "report_templates")
    shared = tree.parent / "shared"  # tests find the corpus beside the repository (ROOT.parent / "shared")
    if not shared.exists():
        shared.symlink_to(ROOT.parent / "shared")
    return tree


def build_map(args) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    rc = WORK / "coveragerc"
    rc.write_text("[run]\ndata_file = " + str(WORK / "coverage.db") + "\ninclude =\n"
                  + "".join(f"    {mut.SRC / p}\n" for p in TARGETS))
    durations = WORK / "durations.jsonl"
    durations.unlink(missing_ok=True)
    (WORK / "coverage.db").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", "-m", "pytest", "-q", "-p", "mutants",
           "-p", "no:cacheprovider", *[f"--ignore={i}" for i in MAP_IGNORE], *args.pytest_args]
    print("mapping:", " ".join(cmd), flush=True)
    subprocess.run(["nice", "-n", "10", *cmd], cwd=mut.SRC, env=_pytest_env({"AOAI_MUTATION_DURATIONS": str(durations)}))
    import coverage

    data = coverage.CoverageData(basename=str(WORK / "coverage.db"))
    data.read()
    seconds: dict[str, float] = {}
    for row in durations.read_text().splitlines():
        nodeid, took = json.loads(row)
        seconds[nodeid] = seconds.get(nodeid, 0.0) + took
    lines: dict[str, dict[str, list[str]]] = {}
    if args.add:  # merge the tests just mapped into the existing map (new test files, without a full re-run)
        old = json.loads((WORK / "map.json").read_text())
        lines, seconds = old["lines"], {**old["seconds"], **seconds}
        if args.since:
            lines = {rel: _moved(rel, by_line, args.since) for rel, by_line in lines.items()}
    for filename in data.measured_files():
        rel = Path(filename).resolve().relative_to(mut.SRC.resolve()).as_posix()
        mine = lines.setdefault(rel, {})
        for n, ctxs in data.contexts_by_lineno(filename).items():
            mine[str(n)] = sorted(set(mine.get(str(n), [])) | {c for c in ctxs if c})
    (WORK / "map.json").write_text(json.dumps({"lines": lines, "seconds": seconds}))
    print(f"map: {len(lines)} files, {len(seconds)} tests → {WORK / 'map.json'}")


def _moved(rel: str, by_line: dict[str, list[str]], since: str) -> dict[str, list[str]]:
    """A map made on commit `since`, carried to this tree's line numbers: equal lines keep their tests, a changed
    block takes the tests of the block it replaced."""
    import difflib

    shown = subprocess.run(["git", "show", f"{since}:{rel}"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        return {}
    old, new = shown.stdout.splitlines(), (mut.SRC / rel).read_text().splitlines()
    if old == new:
        return by_line
    out: dict[str, list[str]] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                if str(i1 + k + 1) in by_line:
                    out[str(j1 + k + 1)] = by_line[str(i1 + k + 1)]
        elif j2 > j1:
            tests = sorted({t for n in range(i1 + 1, i2 + 1) for t in by_line.get(str(n), [])})
            for n in range(j1 + 1, j2 + 1):
                out[str(n)] = tests
    return out


def _twins(mutants: list[Mutant]) -> dict[int, int]:
    """id(mutant) → which of the identical mutants (same module, source line and mutation) it is, by index."""
    groups: dict[tuple[str, str, str], list[Mutant]] = {}
    for m in mutants:
        groups.setdefault((m.path, m.source, m.mutation), []).append(m)
    return {id(m): n for group in groups.values() for n, m in enumerate(sorted(group, key=lambda x: x.index))}


def equivalent_reason(m: Mutant, twin: int, equivalents: dict[tuple[str, str, str], str]) -> str | None:
    """A listed equivalent: `mutation [twin N]` names one of identical mutants on a line, `mutation` all of them."""
    return (equivalents.get((m.path, m.source, f"{m.mutation} [twin {twin}]"))
            or equivalents.get((m.path, m.source, m.mutation)))


def load_equivalents() -> dict[tuple[str, str, str], str]:
    out = {}
    for row in EQUIVALENT.read_text().splitlines() if EQUIVALENT.exists() else []:
        if row.strip() and not row.startswith("#"):
            path, source, mutation, reason = row.split("\t")
            out[(path, source, mutation)] = reason
    return out


def _how(args) -> str:
    return f"up to {args.per_module} per module" if args.per_module else f"uniform {args.sample}"


def select(args) -> list[Mutant]:
    everything = [m for f in target_files(args.only) for m in mutants_of(f)]
    # Uniform and stable: each mutant's rank is a seeded hash of what it is (module, source line, mutation, which
    # of its identical twins), not of its position, so an edit elsewhere does not reshuffle the sample and a
    # before/after pair measures the same mutants wherever the code did not change.
    seen: dict[tuple[str, str, str], int] = {}
    ranked = []
    for m in everything:
        twin = seen[(m.path, m.source, m.mutation)] = seen.get((m.path, m.source, m.mutation), -1) + 1
        key = f"{args.seed}|{m.path}|{m.source}|{m.mutation}|{twin}".encode()
        ranked.append((hashlib.sha256(key).hexdigest(), m))
    ranked.sort(key=lambda hm: hm[0])
    if args.per_module:
        chosen = []
        for f in dict.fromkeys(m.path for m in everything):
            chosen += [m for _h, m in ranked if m.path == f][: args.per_module]
    else:
        chosen = [m for _h, m in ranked[: args.sample]]
    print(f"{len(everything)} mutants in {len(target_files(args.only))} modules; sampled {len(chosen)} "
          f"(seed {args.seed}, {_how(args)})")
    return chosen  # in rank order: a run stopped early has measured a uniform sample of its own


def run_one(m: Mutant, covering: dict, seconds: dict, args) -> None:
    nodeids = set()
    for n in range(m.stmt_line, m.line + 1) if m.stmt_line else covering:  # import-time code: the module's tests
        nodeids.update(covering.get(str(n), []))
    if not nodeids and (not m.stmt_line or m.path in READ_AT_IMPORT):
        nodeids = importers(m.path, args.lines)
    if not nodeids:
        m.status, m.reason = "survived", "no in-process test executes this line"
        return
    focus = args.focus.get(m.path, {}) if args.rank == "focus" else {}
    ordered = sorted(nodeids, key=lambda t: (-focus.get(t, 0.0), seconds.get(t, 1.0), t))[: args.max_tests]
    m.tests = len(ordered)
    budget = args.timeout + 3 * sum(seconds.get(t, 1.0) for t in ordered)
    cmd = ["nice", "-n", "10", sys.executable, "-m", "pytest", "-x", "-q", "-p", "mutants", "-p", "no:cacheprovider",
           "--no-header", "-p", "no:randomly", *ordered]
    start = time.monotonic()
    done = None
    for attempt in (budget, 3 * budget):  # a loaded machine is slow, a mutant that loops is slow every time
        try:
            done = subprocess.run(cmd, cwd=mut.SRC, env=_pytest_env({ENV: f"{m.path}:{m.index}"}), capture_output=True,
                                  text=True, timeout=attempt)
            break
        except subprocess.TimeoutExpired:
            continue
    m.seconds = round(time.monotonic() - start, 1)
    if done is None:
        m.status = "timeout"
        return
    if done.returncode == 0:
        m.status = "survived"
    elif done.returncode in (1, 2, 3):
        m.status = "killed"
        m.reason = next((ln.split(" ", 2)[1] for ln in done.stdout.splitlines() if ln.startswith(("FAILED ", "ERROR "))), "")
    else:
        m.status, m.reason = "error", (done.stdout + done.stderr).strip().splitlines()[-1:][0][:200]


def report(mutants: list[Mutant], args) -> str:
    rows, totals = [], {"killed": 0, "scored": 0}
    for path in dict.fromkeys(m.path for m in mutants):
        mine = [m for m in mutants if m.path == path]
        killed = sum(m.status == "killed" for m in mine)
        scored = sum(m.status in ("killed", "survived") for m in mine)
        totals["killed"] += killed
        totals["scored"] += scored
        equiv = sum(m.status == "equivalent" for m in mine)
        score = f"{100 * killed / scored:.0f}%" if scored else "—"
        rows.append(f"| `{path}` | {len(mine)} | {killed} | {scored - killed} | {equiv} | {score} |")
    overall = f"{100 * totals['killed'] / totals['scored']:.1f}%" if totals["scored"] else "—"
    out = [f"Sample: {len(mutants)} mutants (seed {args.seed}). "
           f"Overall: {totals['killed']}/{totals['scored']} = {overall} (equivalents and timeouts left out).", "",
           "| module | sampled | killed | survived | equivalent | score |", "|---|---:|---:|---:|---:|---:|", *rows,
           "", "Survivors (path, source line, mutation; tab-separated like mutation_equivalent.txt):", ""]
    out += [f"    {m.path}:{m.line}\t{m.source}\t{m.mutation}" + (f"\t({m.reason})" if m.reason else "")
            for m in mutants if m.status == "survived"]
    errors = [m for m in mutants if m.status in ("error", "timeout")]
    if errors:  # a timeout on a loaded machine says nothing either way: not scored, run again with --resume
        out += ["", "Errors and timeouts (not scored):",
                *[f"    {m.status} {m.path}:{m.line} {m.mutation} {m.reason}" for m in errors]]
    return "\n".join(out)


def collected() -> set[str]:
    """The test ids the tree holds now: a map may name tests since renamed, which pytest would refuse to run."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-o", "addopts=", "-q", "-p", "no:cacheprovider",
                           *[f"--ignore={i}" for i in MAP_IGNORE]], cwd=mut.SRC, env=_pytest_env({}),
                          capture_output=True, text=True)
    return {line.strip() for line in done.stdout.splitlines() if "::" in line}


def _saved(name: str) -> list[Mutant]:
    equivalents = load_equivalents()
    mutants = [Mutant(**d) for d in json.loads((WORK / f"{name}.json").read_text())]
    everything = {f: mutants_of(f) for f in {m.path for m in mutants} if (mut.SRC / f).exists()}
    twins = {}
    for f, mine in everything.items():
        numbered = _twins(mine)
        twins.update({(f, m.index): numbered[id(m)] for m in mine})
    for m in mutants:
        reason = equivalent_reason(m, twins.get((m.path, m.index), 0), equivalents)
        if reason:
            m.status, m.reason = "equivalent", reason
    return mutants


def _score(mine: list[Mutant]) -> tuple[int, int]:
    return (sum(m.status == "killed" for m in mine), sum(m.status in ("killed", "survived") for m in mine))


def done_prefix(mutants: list[Mutant]) -> int:
    """How many mutants, in rank order, a (possibly stopped) run has measured without a gap."""
    return next((i for i, m in enumerate(mutants) if m.status == "pending"), len(mutants))


def compare(first: list[Mutant], second: list[Mutant], a: str, b: str) -> str:
    """Two runs side by side per module: killed/scored and the score (equivalents and errors left out), each on
    its first K mutants in rank order, K what both runs measured (a uniform sample of size K)."""
    whole = done_prefix(first) == len(first) and done_prefix(second) == len(second)
    k = min(done_prefix(first), done_prefix(second))
    first, second = (first, second) if whole else (first[:k], second[:k])  # a --per-module run is never cut
    head = "Every mutant of each run." if whole else f"The first {k} mutants of each run in rank order."
    out = [head, "", f"| module | {a} | {b} |", "|---|---:|---:|"]
    paths = sorted({m.path for m in first} | {m.path for m in second})
    cells = {}
    for path in paths:
        row = []
        for run in (first, second):
            killed, scored = _score([m for m in run if m.path == path])
            row.append(f"{killed}/{scored} = {100 * killed / scored:.0f}%" if scored else "—")
        cells[path] = row
        out.append(f"| `{path}` | {row[0]} | {row[1]} |")
    for label, prefix in (("checks/", "checks/"), ("auditor/resolve/", "auditor/resolve/"),
                          ("auditor/usage/", "auditor/usage/"), ("auditor/attribution/", "auditor/attribution/"),
                          ("auditor/exposure.py", "auditor/exposure.py"), ("all", "")):
        row = []
        for run in (first, second):
            killed, scored = _score([m for m in run if m.path.startswith(prefix)])
            row.append(f"{killed}/{scored} = {100 * killed / scored:.1f}%" if scored else "—")
        out.append(f"| **{label}** | {row[0]} | {row[1]} |")
    return "\n".join(out)


def check(args) -> None:
    """The survivors of a saved run (--name), found again in this tree (same index, source line and mutation; a
    module changed since is said, not guessed) and run against the tests given: which the tests being written kill."""
    saved = [m for m in _saved(args.name) if m.status == "survived"
             and any(fnmatch.fnmatch(m.path, g) for g in (args.only or ["*"]))]
    if not args.pytest_args:
        raise SystemExit("check: name the tests to run after --")
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "mutants", "-p", "no:cacheprovider", "--no-header",
              *args.pytest_args]
    base = subprocess.run(pytest, cwd=mut.SRC, env=_pytest_env({}), capture_output=True, text=True)
    if base.returncode != 0:  # a kill must be the mutant's doing, not a test that fails on the tree as it is
        raise SystemExit("check: the tests fail without a mutant:\n" + base.stdout[-2000:])
    now = {f: {(m.index, m.source, m.mutation): m for m in mutants_of(f)} for f in sorted({m.path for m in saved})}
    killed = total = 0
    for s in saved:
        m = now[s.path].get((s.index, s.source, s.mutation))
        if m is None:
            print(f"moved     {s.path}:{s.line}\t{s.source.strip()}\t{s.mutation} (the module changed: not run)")
            continue
        done = subprocess.run(["nice", "-n", "10", *pytest], cwd=mut.SRC, env=_pytest_env({ENV: f"{m.path}:{m.index}"}),
                              capture_output=True, text=True, timeout=600)
        total += 1
        killed += done.returncode in (1, 2, 3)
        status = "killed" if done.returncode in (1, 2, 3) else "survived" if done.returncode == 0 else "error"
        print(f"{status:9} {m.path}:{m.line}\t{m.source.strip()}\t{m.mutation}", flush=True)
    print(f"{killed} of {total} survivors killed by {' '.join(args.pytest_args)}")


def run(args) -> None:
    mapping = json.loads((WORK / f"{args.map}.json").read_text())
    present = collected()
    if not present:
        raise SystemExit("pytest collected no tests in the tree: nothing to run the mutants against")
    for lines in mapping["lines"].values():
        for n, tests in lines.items():
            lines[n] = [t for t in tests if t in present]
    args.focus = focus(mapping["lines"]) if args.rank == "focus" else {}
    args.lines = mapping["lines"]
    equivalents = load_equivalents()
    mutants = select(args)
    saved = WORK / f"{args.name}.json"
    done = {(d["path"], d["index"], d["source"], d["mutation"]): d for d in
            (json.loads(saved.read_text()) if args.resume and saved.exists() else []) if d["status"] != "pending"}
    twins = {}
    for f in {m.path for m in mutants}:
        mine = mutants_of(f)
        numbered = _twins(mine)
        twins.update({(f, x.index): numbered[id(x)] for x in mine})
    for n, m in enumerate(mutants, 1):
        reason = equivalent_reason(m, twins[(m.path, m.index)], equivalents)
        before = done.get((m.path, m.index, m.source, m.mutation))
        if reason:
            m.status, m.reason = "equivalent", reason
        elif before is not None and before["status"] not in ("equivalent", "timeout") and not (
                args.rerun_survivors and before["status"] == "survived"):  # --resume: a stopped run
            m.status, m.tests, m.seconds, m.reason = before["status"], before["tests"], before["seconds"], before["reason"]
        else:
            run_one(m, mapping["lines"].get(m.path, {}), mapping["seconds"], args)
        print(f"[{n}/{len(mutants)}] {m.status:10} {m.path}:{m.line} {m.mutation} ({m.tests} tests, {m.seconds}s)",
              flush=True)
        (WORK / f"{args.name}.json").write_text(json.dumps([asdict(x) for x in mutants]))
    text = report(mutants, args)
    print(text)
    (WORK / f"{args.name}.md").write_text(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("map", "run", "list", "report", "check"))
    parser.add_argument("--only", nargs="*", default=[], help="module globs, e.g. checks/by001*")
    parser.add_argument("--sample", type=int, default=300, help="uniform sample over every mutant")
    parser.add_argument("--per-module", type=int, default=0, help="instead: up to N per module, uniform in each")
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per mutant, plus 3× its tests' time")
    parser.add_argument("--max-tests", type=int, default=60, help="the N fastest covering tests run per mutant")
    parser.add_argument("--rank", choices=("speed", "focus"), default="speed",
                        help="which covering tests come first: the fastest, or those most about the module")
    parser.add_argument("--tree", help="mutate and test this commit's files (e.g. main), not the checkout")
    parser.add_argument("--map", default="map", help="run: the line → tests map to read (benchmarks/.work/mutation/)")
    parser.add_argument("--compare", help="report: a second saved run, shown beside --name per module")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run --resume: run the survivors of --name again (after new tests were mapped)")
    parser.add_argument("--resume", action="store_true", help="run: keep the results of a stopped run of --name")
    parser.add_argument("--add", action="store_true", help="map: merge the given tests into the existing map")
    parser.add_argument("--since", help="map --add: the existing map was made on this commit; move its lines")
    parser.add_argument("--name", default="last", help="results file stem under benchmarks/.work/mutation/")
    parser.add_argument("pytest_args", nargs="*", help="map: extra pytest arguments (after --)")
    args = parser.parse_intermixed_args()
    if args.tree:
        mut.SRC = extract_tree(args.tree)
    if args.command == "map":
        build_map(args)
    elif args.command == "report":  # a saved run scored again with the current list of equivalents
        print(report(_saved(args.name), args))
        if args.compare:
            print("\n" + compare(_saved(args.compare), _saved(args.name), args.compare, args.name))
    elif args.command == "list":
        for m in select(args):
            print(f"{m.path}:{m.line}\t{m.source}\t{m.mutation}")
    elif args.command == "check":
        check(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
