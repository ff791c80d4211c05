"""What changed between two runs (JSON reports): fixed, new, and changed severity, matched by fingerprint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .escape import visible


class DiffError(Exception):
    pass


@dataclass(frozen=True)
class MoneyChange:
    """The unknown bucket's money in both runs (same currency), and what it is a share of."""

    before: float
    after: float
    currency: str

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)


@dataclass(frozen=True)
class RunDiff:
    new: tuple[dict[str, Any], ...]
    fixed: tuple[dict[str, Any], ...]
    changed: tuple[tuple[dict[str, Any], dict[str, Any]], ...]  # (old, new) with another severity
    unchanged: int
    unattributed: MoneyChange | None = None  # None: either run had no priced usage, or the currencies differ


def load_report(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise DiffError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise DiffError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # nesting, a number past Python's digit limit, not UTF-8
        from ..json_input import describe

        raise DiffError(f"{path}: not valid JSON ({describe(exc, b'')[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise DiffError(f"{path}: not an aoai-audit JSON report (no findings list)")
    for i, finding in enumerate(doc["findings"]):
        _check_finding(path, i, finding)
    return doc


# What a diff reads of each finding (json_report.finding_dict writes them): text, or absent/null where optional.
_REQUIRED = ("fingerprint", "rule_id", "severity", "resource", "message")
_OPTIONAL = ("context", "suppressed_by")


def _check_finding(path: str, i: int, finding: Any) -> None:
    """One line naming the file and the key, as config and baseline files get, instead of a KeyError later."""
    if not isinstance(finding, dict):
        raise DiffError(f"{path}: findings[{i}]: expected an object, got {type(finding).__name__}")
    for key in _REQUIRED:
        if not isinstance(finding.get(key), str):
            got = "nothing" if key not in finding else type(finding[key]).__name__
            raise DiffError(f"{path}: findings[{i}].{key}: expected text, got {got}")
    for key in _OPTIONAL:
        if finding.get(key) is not None and not isinstance(finding[key], str):
            raise DiffError(f"{path}: findings[{i}].{key}: expected text or null, got {type(finding[key]).__name__}")


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> RunDiff:
    def active(doc):
        return {f["fingerprint"]: f for f in doc["findings"] if not f.get("suppressed_by")}

    before, after = active(old), active(new)
    changed = tuple((before[k], after[k]) for k in sorted(before.keys() & after.keys())
                    if before[k].get("severity") != after[k].get("severity"))
    def by_place(items):
        return tuple(sorted(items, key=lambda f: (f.get("rule_id", ""), f.get("resource", ""), f.get("context", ""))))

    return RunDiff(
        new=by_place(after[k] for k in after.keys() - before.keys()),
        fixed=by_place(before[k] for k in before.keys() - after.keys()),
        changed=changed,
        unchanged=len(before.keys() & after.keys()) - len(changed),
        unattributed=_unattributed(old, new),
    )


def _unattributed(old: dict[str, Any], new: dict[str, Any]) -> MoneyChange | None:
    def figure(doc):
        usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else None
        unknown = usage.get("unknown") if usage else None
        if not isinstance(unknown, dict) or not isinstance(unknown.get("money"), (int, float)):
            return None
        return float(unknown["money"]), str(usage.get("currency", ""))

    a, b = figure(old), figure(new)
    if a is None or b is None or a[1] != b[1]:
        return None
    return MoneyChange(a[0], b[0], b[1])


def render_diff(d: RunDiff) -> str:
    def line(f):
        return f"  {f['severity']:6} {f['rule_id']:7} {f['resource']}: {f['message']}"

    out = [f"{len(d.fixed)} fixed, {len(d.new)} new, {len(d.changed)} changed severity, {d.unchanged} unchanged"]
    if d.unattributed:
        u = d.unattributed
        out.append(f"went to no team: {u.currency} {u.before:,.2f} -> {u.currency} {u.after:,.2f} "
                   f"({'+' if u.delta >= 0 else '-'}{u.currency} {abs(u.delta):,.2f})")
    for title, items in (("fixed", d.fixed), ("new", d.new)):
        if items:
            out.append(f"{title}:")
            out += [line(f) for f in items]
    if d.changed:
        out.append("changed severity:")
        out += [f"  {o['rule_id']:7} {o['resource']}: {o['severity']} -> {n['severity']}" for o, n in d.changed]
    return "\n".join(visible(x) for x in out) + "\n"  # names from a report file reach a terminal inert
