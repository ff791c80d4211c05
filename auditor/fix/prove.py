"""Proof by re-audit: the fixed texts are written into a private copy of the inputs, the copy is read by the same
source readers and audited by the same engine and settings, and its findings are compared with the original's.

Nothing outside the copy is written. A finding is compared by its fingerprint parts (rule, resource, context,
key). The findings before the fix are read from the same copy, so both sides name services and files alike;
only what the report shows is mapped back to the inputs as given.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace

from ..analysis import token_metrics
from ..config import Settings
from ..engine import AuditResult, run_audit
from ..rules import Registry
from ..sources.detect import load_paths
from ..usage.model import UsageData
from .model import Identity

_IGNORE = shutil.ignore_patterns(".git", "node_modules", ".terraform", "__pycache__", ".venv")


@dataclass
class Workspace:
    """A private copy of the inputs: `paths` as the tool was given them, `copies` where each lies in the copy."""

    paths: list[str]
    service_name: str | None
    root: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="aoai-audit-fix-"))
    copies: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # copy path -> text last written there
    usage: UsageData | None = None  # --usage rows, as a scan of the inputs would read them

    def __post_init__(self) -> None:
        loose = [p for p in self.paths if not os.path.isdir(p)]
        base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in loose]) if loose else ""
        for i, path in enumerate(self.paths):
            if os.path.isdir(path):
                target = os.path.join(self.root, f"d{i}", os.path.basename(os.path.abspath(path)) or "root")
                shutil.copytree(path, target, symlinks=True, ignore=_IGNORE)
            else:
                target = os.path.join(self.root, "files", os.path.relpath(os.path.abspath(path), base))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(path, target, follow_symlinks=False)
            self.copies.append(target)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def original_of(self, copy: str) -> str:
        """The input file a file of the copy stands for, spelled as the tool was given its input."""
        full = os.path.abspath(copy)
        for original, top in zip(self.paths, self.copies, strict=True):
            if full == top:
                return original
            if full.startswith(top.rstrip(os.sep) + os.sep):
                return os.path.join(original, os.path.relpath(full, top))
        raise ValueError(f"{copy} is not part of the copy")

    def shown(self, copy: str) -> str:
        """A file of the copy as the user gave it, for what the run prints (the copy itself when it is not one)."""
        try:
            return self.original_of(copy)
        except ValueError:
            return copy

    def in_words(self, text: str) -> str:
        """A message naming files of the copy, with each named as the user gave it."""
        for original, top in sorted(zip(self.paths, self.copies, strict=True), key=lambda p: -len(p[1])):
            text = text.replace(top, original.rstrip(os.sep) or original)
        return text

    def read(self, copy: str) -> str:
        """A file of the copy as read before any fix (raw text: BOM and newlines as written)."""
        with open(copy, encoding="utf-8", newline="") as fh:
            return fh.read()

    def stage(self, texts: dict[str, str], originals: dict[str, str]) -> None:
        """Make the copy hold `texts` (copy path -> raw text) and every other file as it was read."""
        wanted = dict(texts)
        for copy in self.written:
            wanted.setdefault(copy, originals[copy])
        for copy, text in wanted.items():
            if self.written.get(copy, originals.get(copy)) != text:
                with open(copy, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
            self.written[copy] = text

    def audit(self, registry: Registry, settings: Settings) -> AuditResult:
        """The copy audited as a scan would, with the usage the run was given (usage files stay outside the copy:
        the fix never edits them)."""
        estate = load_paths(list(self.copies), self.service_name)
        if self.usage is not None:
            estate = replace(estate, usage=estate.usage.merge(self.usage) if estate.usage else self.usage)
        return run_audit(estate, registry, settings)


# (API resource, operation, product context) → how many token metrics its effective inbound policy emits
MetricCounts = dict[tuple[str, str | None, str | None], int]


def metric_counts(result: AuditResult) -> MetricCounts:
    """How often each call's tokens are metered. Each token-metric statement on a call's way in emits them once
    (https://learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy: "can be used multiple times
    per policy definition"), and no rule fires on two: the proof compares these before and after a repair."""
    return {(v.resource, ep.operation, ep.product): len(token_metrics(ep.inbound))
            for v in result.ctx.apis for ep in v.effective}


def metered_twice(before: MetricCounts, after: MetricCounts) -> list[tuple[str, str | None, str | None]]:
    """Calls a repair makes metered more than once (that were not so already)."""
    return sorted((k for k, n in after.items() if n > 1 and n > before.get(k, 0)), key=str)


def identities(result: AuditResult) -> frozenset[Identity]:
    """Every finding (suppressed or not) as the proof compares it: its fingerprint parts."""
    return frozenset((f.rule_id, f.resource, f.context, f.key) for f in result.findings)
