"""Mutation fuzzing of whole inputs (opt-in, never in CI): does bad input ever end in a traceback, a hang, or an
exit 2 that does not name the file?

Each case copies one seed estate (the bundled example with its usage, cost-centre map and platform files, the ARM
and Terraform fixtures), applies one to three random mutations to its files (truncation, byte and line edits, a
JSON value replaced by another type, deep nesting, another encoding, a NUL), and runs `aoai-audit scan` in this
process with a time limit. A case is a defect when the command raises (an internal error), takes longer than the
limit, exits other than 0, 1 or 2, or exits 2 with a message that names no input file. Defects are written to
--out with the mutated files, so each is a reproducer.

    python scripts/fuzz_inputs.py --cases 300 --seed 1 --out /tmp/fuzz
    python scripts/fuzz_inputs.py --command fix --cases 300 --seed 1   # the repairs, on the same mutated inputs
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from click.testing import CliRunner

from aoai_audit.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "example"


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang()


def _seeds() -> list[tuple[str, Path, list[str]]]:
    """(name, folder to copy, scan arguments relative to the copy)."""
    fixtures = ROOT / "tests" / "fixtures"
    seeds = [
        ("example", EXAMPLE, ["contoso-apim", "--usage", "usage.csv", "--usage", "platform",
                              "--cost-centres", "cost-centres.yaml"]),
        ("workspaces", fixtures / "workspaces_apiops", ["apim-shared"]),
        ("policies", fixtures / "corpus" / "policies", ["."]),
        *[(f"arm-{p.stem}", p.parent, [p.name]) for p in sorted((fixtures / "arm").glob("*.json"))
          if p.stem != "malformed"],
        *[(f"tf-{p.stem}", p.parent, [p.name]) for p in sorted((fixtures / "terraform").glob("*.json"))
          if p.stem != "malformed"],
    ]
    for arch in sorted((fixtures / "architectures").iterdir()):  # ARM templates with usage and cost-centre maps
        if (arch / "main.json").is_file() and (arch / "usage.csv").is_file():
            extra = ["--cost-centres", "cost-centres.yaml"] if (arch / "cost-centres.yaml").is_file() else []
            seeds.append((f"arch-{arch.name}", arch, ["main.json", "--usage", "usage.csv", *extra]))
    return seeds


WEIRD_VALUES = [None, [], {}, 0, -1, 1e308, 10**40, "", "@(context.Request.Headers.GetValueOrDefault(\"x\"))",
                "[concat('a', parameters('missing'))]", "\u0000", "../../etc/passwd", "a" * 5000, True,
                {"$ref": "#"}, [[[[[]]]]]]


def _json_mutate(data, rng: random.Random):
    """Replace one random value somewhere in the document by a value of another type."""
    path = []
    node = data
    while isinstance(node, (dict, list)) and node and rng.random() < 0.85:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return rng.choice(WEIRD_VALUES)
    parent, key = path[-1]
    choice = rng.random()
    if choice < 0.7:
        parent[key] = rng.choice(WEIRD_VALUES)
    elif choice < 0.85 and isinstance(parent, dict):
        del parent[key]
    else:
        deep: object = "x"
        for _ in range(rng.choice((50, 500, 5000))):
            deep = [deep]
        parent[key] = deep
    return data


def _mutate_text(text: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    n = len(text)
    if kind == 0 and n:
        return text[: rng.randrange(n)]  # truncated
    if kind == 1 and n:
        i = rng.randrange(n)
        return text[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8))) + text[i:]
    if kind == 2:
        lines = text.split(b"\n")
        i = rng.randrange(len(lines))
        lines.insert(i, lines[rng.randrange(len(lines))])
        return b"\n".join(lines)
    if kind == 3:
        lines = text.split(b"\n")
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if kind == 4:
        try:
            return text.decode("utf-8").encode(rng.choice(("utf-16", "utf-32", "latin-1", "utf-8-sig")),
                                               errors="replace")
        except UnicodeDecodeError:
            return text
    if kind == 5 and n:
        i = rng.randrange(n)
        return text[:i] + b"\x00" + text[i:]
    if kind == 6:
        return text * rng.choice((2, 50))
    if kind == 7 and n:
        i = rng.randrange(n)
        return text[:i] + rng.choice((b"<", b">", b"&", b"\"", b"'", b"]]>", b"<!--", b"{", b"}", b",", b"\r")) + text[i:]
    return text.replace(b"\n", b"\r\n") if rng.random() < 0.5 else text.replace(b"  ", b"\t")


WEIRD_CELLS = ["", "-5", "1e400", "NaN", "inf", "1,000", "١٢٣", "0x10", "9" * 400, "2026-02-30", "31/12/2026",
               "=cmd|' /C calc'!A0", "\u202e", "null", " 12 ", "1.5", "-0", "2026-11-01T25:00:00Z"]
XML_BITS = [b"<base />", b"<base/><base/>", b"<llm-emit-token-metric><dimension name=\"x\" /></llm-emit-token-metric>",
            b"<include-fragment fragment-id=\"missing\" />", b"<include-fragment fragment-id=\"../../x\" />",
            b"<choose><when condition=\"@(true)\">", b"</choose>", b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&a;",
            b"<set-header name=\"x-team-id\" exists-action=\"skip\"><value>@(\"a\")</value></set-header>",
            b"<![CDATA[ <base/> ]]>", b"<?xml version=\"1.0\" encoding=\"utf-16\"?>", b"{{named-value}}"]


def _mutate_cell(text: bytes, rng: random.Random) -> bytes:
    """One CSV cell replaced by a value a spreadsheet or another export could write."""
    lines = text.decode("utf-8", errors="replace").split("\n")
    rows = [i for i, line in enumerate(lines) if "," in line]
    if not rows:
        return text
    i = rng.choice(rows)
    cells = lines[i].split(",")
    cells[rng.randrange(len(cells))] = rng.choice(WEIRD_CELLS)
    lines[i] = ",".join(cells)
    return "\n".join(lines).encode("utf-8")


def _mutate_xml(text: bytes, rng: random.Random) -> bytes:
    """A policy statement, fragment reference, entity or declaration put somewhere in the document."""
    cuts = [i for i in range(len(text)) if text[i:i + 1] in (b"<", b">")] or [0]
    i = rng.choice(cuts)
    i += 1 if text[i:i + 1] == b">" else 0
    return text[:i] + rng.choice(XML_BITS) + text[i:]


def mutate_file(path: Path, rng: random.Random) -> str:
    raw = path.read_bytes()
    if path.suffix == ".csv" and rng.random() < 0.6:
        path.write_bytes(_mutate_cell(raw, rng))
        return "csv cell"
    if path.suffix == ".xml" and rng.random() < 0.6:
        path.write_bytes(_mutate_xml(raw, rng))
        return "xml statement"
    if path.suffix == ".json" and rng.random() < 0.6:
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        if doc is not None:
            try:
                path.write_text(json.dumps(_json_mutate(doc, rng)), encoding="utf-8")
                return "json value"
            except (RecursionError, ValueError):
                pass
    path.write_bytes(_mutate_text(raw, rng))
    return "text"


EXITS: dict[int, int] = {}
FORMATS = ("json", "html", "sarif", "junit", "md", "text", "focus", "gitlab")
VERBOSE = False


def run_case(seed_dir: Path, args: list[str], rng: random.Random, limit: int, command: str = "scan"
             ) -> tuple[str | None, str, Path]:
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    shutil.copytree(seed_dir, work / "in")
    files = [p for p in (work / "in").rglob("*") if p.is_file()]
    changed = []
    for _ in range(rng.randrange(1, 4)):
        target = rng.choice(files)
        changed.append(f"{target.relative_to(work / 'in')} ({mutate_file(target, rng)})")
    paths = [str(work / "in" / a) if not a.startswith("-") else a for a in args]
    formats = [f for f in FORMATS if f != "focus" or "--usage" in args]  # FOCUS needs usage (exit 2 otherwise)
    argv = {"scan": ["scan", *paths, "--format", rng.choice(formats), "--output", str(work / "out")],
            "fix": ["fix", *paths, "--write" if rng.random() < 0.5 else "--diff"],
            "kql": ["kql", *[p for p in paths if not p.startswith("-")][:1]],
            "collect": ["collect", *[p for p in paths if not p.startswith("-")][:1], "--output", str(work / "snap.json")],
            }[command]
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        result = CliRunner().invoke(main, argv, catch_exceptions=True)
    except Hang:
        return "hang", "; ".join(changed), work
    finally:
        signal.alarm(0)
    out = (result.stdout or "") + (result.stderr if result.stderr_bytes is not None else "")
    EXITS[result.exit_code] = EXITS.get(result.exit_code, 0) + 1
    if VERBOSE:
        first = next((ln for ln in (result.stderr or "").splitlines() if ln.strip()), "")
        print(f"  exit {result.exit_code} {'; '.join(changed)} :: {first[:300]}", flush=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        if isinstance(result.exception, Hang):
            return "hang", "; ".join(changed), work
        tb = "".join(traceback.format_exception(result.exception))
        return f"exception: {tb[-1500:]}", "; ".join(changed), work
    if result.exit_code not in (0, 1, 2):
        return f"exit {result.exit_code}: {out[-500:]}", "; ".join(changed), work
    if result.exit_code == 2 and str(work / "in") not in out and "in/" not in out:
        return f"exit 2 naming no file: {out[-500:]}", "; ".join(changed), work
    return None, "; ".join(changed), work


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=60, help="seconds per case before it is called a hang")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "aoai-audit-fuzz")
    parser.add_argument("--command", choices=("scan", "fix", "kql", "collect"), default="scan",
                        help="the command run on the mutated copies (scan writes a random format)")
    parser.add_argument("--verbose", action="store_true", help="print every case's exit code and first stderr line")
    opts = parser.parse_args()
    global VERBOSE
    VERBOSE = opts.verbose
    rng = random.Random(opts.seed)
    seeds = _seeds()
    opts.out.mkdir(parents=True, exist_ok=True)
    defects = 0
    for i in range(opts.cases):
        name, folder, args = rng.choice(seeds)
        if len(args) > 1 or args[0] != Path(args[0]).name or (folder / args[0]).is_dir():
            seed_dir = folder  # a whole estate: copied by run_case
        else:  # one file of a shared folder: copy only it
            seed_dir = Path(tempfile.mkdtemp(prefix="fuzz-seed-"))
            shutil.copy2(folder / args[0], seed_dir / args[0])
        defect, changed, work = run_case(seed_dir, args, rng, opts.limit, opts.command)
        if defect:
            defects += 1
            keep = opts.out / f"case-{i:04d}-{name}"
            shutil.rmtree(keep, ignore_errors=True)
            shutil.move(str(work), keep)
            (keep / "DEFECT.txt").write_text(f"{changed}\n{defect}\n", encoding="utf-8")
            print(f"case {i} {name}: {changed}\n  {defect.splitlines()[-1] if defect else ''}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
        if seed_dir != folder:
            shutil.rmtree(seed_dir, ignore_errors=True)
    print(f"{opts.cases} cases, exit codes {dict(sorted(EXITS.items()))}, {defects} defect(s); reproducers in "
          f"{opts.out}")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main_())
