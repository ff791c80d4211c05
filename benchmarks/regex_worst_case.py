"""Find input-facing regular expressions whose time grows faster than the input (a triage tool, not a test).

    python benchmarks/regex_worst_case.py [size]

Every compiled pattern held at module level in `aoai_audit` and `aoai_audit.checks` (directly, or inside a
tuple/frozen dataclass) is run with search, match and finditer over repeated pieces built from its own literals
and from punctuation that commonly starts backtracking; a pattern whose time grows more than 3x when the input
doubles (and takes over 20 ms) is printed with the piece that did it.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import sys
import time

PIECES = [" ", "a", "0", "a ", "a.", "a-", "key-", "key", "{{", "{", "}", "\"", "'", "\\", "<", "<!--", "-->",
          "<!-- x -->\n", "=", "a=", ":", "@(", "(", "[", "]", "/", "//", "sig=", "Bearer ", "x\n", "\n", "&", "?",
          "&amp;", "eyJ", "aaaaaaaa.", "-----BEGIN A PRIVATE KEY-----", "0-", "Aa", "aA", ",", ", ", "\t"]


def patterns():
    import aoai_audit
    import aoai_audit.checks
    seen = {}
    for pkg in (aoai_audit, aoai_audit.checks):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            try:
                mod = importlib.import_module(info.name)
            except Exception:
                continue
            for name, value in vars(mod).items():
                for i, pat in enumerate(_found(value)):
                    seen.setdefault(id(pat), (f"{info.name}.{name}[{i}]", pat))
    return list(seen.values())


def _found(value, depth=0):
    if isinstance(value, re.Pattern):
        return [value]
    if depth > 3:
        return []
    if isinstance(value, (tuple, list, frozenset, set)):
        return [p for v in value for p in _found(v, depth + 1)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value) for p in _found(getattr(value, f.name), depth + 1)]
    return []


def literals(pat: re.Pattern) -> list[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z_-]{2,}", pat.pattern))
    return sorted(words)[:40]


def cost(pat: re.Pattern, text: str) -> float:
    start = time.perf_counter()
    pat.search(text)
    pat.match(text)
    for _ in pat.finditer(text):
        pass
    return time.perf_counter() - start


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for name, pat in patterns():
        worst = None
        for piece in PIECES + literals(pat) + [w + "=" for w in literals(pat)] + [w + " " for w in literals(pat)]:
            reps = max(1, size // len(piece))
            small, big = piece * reps, piece * (2 * reps)
            t1 = cost(pat, small)
            if t1 < 0.002:
                continue
            t2 = cost(pat, big) if t1 < 0.5 else t1 * 8  # already slow at the small size: no need to wait
            if t2 > 0.02 and t2 / max(t1, 1e-6) > 3 and (worst is None or t2 > worst[1]):
                worst = (piece, t2, t2 / t1)
        if worst:
            print(f"{name}: {worst[0]!r} x{2 * size // len(worst[0])}: {worst[1]:.3f}s ({worst[2]:.1f}x on doubling)"
                  f"   /{pat.pattern[:100]}/", flush=True)


if __name__ == "__main__":
    main()
