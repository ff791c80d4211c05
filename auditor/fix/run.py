"""A fix run: audit a private copy of the inputs, plan repairs rule by rule, prove each by re-auditing the copy
with it applied, keep only what is proven. Nothing is written to the inputs here (see `write_fixed`).

Proof: the findings a repair names are gone after it, no finding appears that was not there before it, and the
audit ran to the end. Repairs of one rule are first proven together; when that fails, one by one, each option
in turn, so one unprovable repair does not cost the others.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import replace

from ..config import Settings
from ..engine import AuditResult
from ..policy.wellformed import RawXmlError
from ..rules import Registry
from ..sources.apiops_layout import looks_like_apiops, service_name_for
from ..usage.model import UsageData
from .edits import Edit, EditConflict, apply_edits
from .iac import EDITABLE_SOURCES, iac_statements
from .model import Applied, Declined, FixResult, Identity, Option, Repair
from .planner import ORDER, Planner
from .prove import MetricCounts, Workspace, identities, metered_twice, metric_counts
from .rawtext import RawDocument, parse_raw

FIXABLE = frozenset(ORDER)


class _Run:
    def __init__(self, ws: Workspace, registry: Registry, settings: Settings):
        self.ws, self.registry, self.settings = ws, registry, settings
        self.originals: dict[str, str] = {}  # copy path -> raw text as read
        self.current: dict[str, str] = {}  # copy path -> raw text with the proven repairs
        self.counts: MetricCounts = {}  # how often each call is metered, with the proven repairs

    def text(self, path: str) -> str | None:
        if path in self.current:
            return self.current[path]
        if path not in self.originals:
            try:
                self.originals[path] = self.ws.read(path)
            except (OSError, UnicodeDecodeError, ValueError):
                return None
        return self.originals[path]

    def raw(self, path: str) -> RawDocument | None:
        if not path or not os.path.isfile(path) or path.lower().endswith((".json", ".gz")):
            return None
        text = self.text(path)
        if text is None or "\r" in text.replace("\r\n", ""):  # lone CR newlines: lines are not what they seem
            return None
        try:
            return parse_raw(text)
        except (RawXmlError, RecursionError):
            return None

    def texts_with(self, base: dict[str, RawDocument], edits: Iterable[Edit]) -> dict[str, str]:
        by_path: dict[str, list[Edit]] = {}
        for e in edits:
            by_path.setdefault(e.path, []).append(e)
        out = dict(self.current)
        for path, group in by_path.items():
            doc = base[path]
            out[path] = doc.bom + apply_edits(doc.text, group)
        return out

    def attempt(self, texts: dict[str, str], before: frozenset[Identity], named: Iterable[Identity]):
        """(result, why not) of auditing the copy holding `texts`."""
        self.ws.stage(texts, self.originals)
        result = self.ws.audit(self.registry, self.settings)
        if result.incomplete:
            return result, "the re-audit did not run to the end"
        twice = metered_twice(self.counts, metric_counts(result))
        if twice:
            shown = ", ".join(f"{res}" + (f"/operations/{op}" if op else "") + (f" via product '{p}'" if p else "")
                              for res, op, p in twice[:3])
            return result, f"the fixed estate would meter the tokens of {len(twice)} call path(s) twice: {shown}"
        after = identities(result)
        stayed = sorted(i for i in named if i in after)
        new = sorted(after - before)
        if new:
            shown = ", ".join(f"{r} on {res}" for r, res, *_ in new[:3])
            return result, f"the re-audit found {len(new)} new finding(s): {shown}"
        if stayed:
            return result, f"the re-audit still finds {', '.join(f'{r} on {res}' for r, res, *_ in stayed[:3])}"
        return result, None


def _decline_unproven(repair: Repair, reason: str) -> list[Declined]:
    return [Declined(rule, resource, f"not proven: {reason}") for rule, resource, *_ in repair.closes]


def _round(run: _Run, rule_id: str, result: AuditResult, out: FixResult) -> AuditResult:
    planner = Planner(result, run.raw)
    repairs = planner.plan(rule_id)
    out.declined.extend(planner.declined)
    if not repairs:
        return result
    before = identities(result)
    paths = dict.fromkeys(e.path for r in repairs for o in r.options for e in o.edits)
    base = {p: d for p in paths if (d := run.raw(p)) is not None}
    firsts = [e for r in repairs for e in r.options[0].edits]
    try:
        texts = run.texts_with(base, firsts)
        together, why = run.attempt(texts, before, [c for r in repairs for c in r.closes])
    except EditConflict as exc:
        together, why = result, str(exc)
    if why is None:
        run.current, run.counts = texts, metric_counts(together)
        closed = tuple(sorted(before - identities(together)))
        out.applied.extend(Applied(r, r.options[0], closed) for r in repairs)
        return together
    accepted: list[Edit] = []
    for repair in repairs:
        reasons = []
        for option in repair.options:
            try:
                texts = run.texts_with(base, accepted + list(option.edits))
                trial, why = run.attempt(texts, before, repair.closes)
            except EditConflict as exc:
                why = str(exc)
            if why is None:
                accepted += list(option.edits)
                closed = tuple(sorted(before - identities(trial)))
                out.applied.append(Applied(repair, option, closed))
                before, result, run.current = identities(trial), trial, texts
                run.counts = metric_counts(trial)
                break
            reasons.append(f"{option.summary}: {why}")
        else:
            out.declined.extend(_decline_unproven(repair, "; ".join(reasons)))
    run.ws.stage(run.current, run.originals)
    return result


def run_fix(paths: list[str], registry: Registry, settings: Settings, service_name: str | None = None,
            rules: Iterable[str] | None = None, usage: UsageData | None = None) -> FixResult:
    """Plan and prove the repairs for `paths` (audited with `usage`, as `scan --usage` would); the result holds the
    original and fixed texts by input path."""
    wanted = [r for r in ORDER if rules is None or r in set(rules)]
    out = FixResult()
    if service_name is None and len(paths) == 1 and looks_like_apiops(paths[0]):
        service_name = service_name_for(paths[0])[0]  # the copy lies elsewhere: name the service as a scan would
    with Workspace(list(paths), service_name, usage=usage) as ws:
        run = _Run(ws, registry, settings)
        result = ws.audit(registry, settings)
        out.before = identities(result)
        run.counts = metric_counts(result)
        if result.incomplete or result.saw_nothing:
            out.notes.append(f"nothing to fix in {', '.join(paths)}: " + result.verdict())
            out.notes.extend(f"{ws.shown(g.target)}{f':{g.line}' if g.line else ''}: {g.message}"
                             for g in result.estate.gaps[:5])  # what could not be read, by the user's own path
            out.after = out.before
            return out
        kinds = {s.kind for s in result.estate.sources}
        if kinds - EDITABLE_SOURCES:
            out.statements, iac_declined = iac_statements(result, wanted, ws.shown)
            out.declined.extend(iac_declined)
        for rule_id in wanted:
            result = _round(run, rule_id, result, out)
        out.after = identities(result)
        still = {(r, res) for r, res, *_ in out.after}
        declined = {(d.rule_id, d.resource, d.reason): d for d in out.declined if (d.rule_id, d.resource) in still}
        out.declined = [replace(d, reason=ws.in_words(d.reason)) for d in declined.values()]
        out.applied = [replace(a, repair=replace(a.repair, path=ws.original_of(a.repair.path)),
                               option=replace(a.option, summary=ws.in_words(a.option.summary),
                                              edits=tuple(replace(e, path=ws.original_of(e.path))
                                                          for e in a.option.edits)))
                       for a in out.applied]
        out.originals = {ws.original_of(p): t for p, t in run.originals.items() if p in run.current}
        out.fixed = {ws.original_of(p): t for p, t in run.current.items()}
    return out


def write_fixed(result: FixResult) -> list[str]:
    """Write every changed file in place, atomically, keeping its mode; returns the paths written."""
    written = []
    for path, (_old, new) in result.changed.items():
        tmp = f"{path}.aoai-audit-fix.tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(new)
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
        written.append(path)
    return written


__all__ = ["FIXABLE", "Option", "run_fix", "write_fixed"]
