"""The cost-centre map: which attribution value, product or API belongs to which cost centre and owner.

YAML (`cost_centres: [{consumer: marketing, cost_centre: CC-4100, owner: ...}]`) or CSV with the columns
`kind,value,cost_centre,owner` (kind: consumer, product, api or subscription). Values may be globs.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from dataclasses import dataclass
from pathlib import Path

from .model import UsageRow

KINDS = ("consumer", "product", "api", "subscription")


class CostCentreError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class CostCentre:
    kind: str
    value: str  # glob, matched case-insensitively
    cost_centre: str
    owner: str = ""
    dimension: str = ""  # consumer entries may be limited to one dimension


@dataclass(frozen=True)
class CostCentreMap:
    entries: tuple[CostCentre, ...]
    origin: str = ""

    def lookup(self, row: UsageRow) -> CostCentre | None:
        """Most specific first: the attribution value itself, then product, then API."""
        for kind, value in (("consumer", row.consumer), ("subscription", row.consumer), ("product", row.product),
                            ("api", row.api)):
            if not value:
                continue
            for entry in self.entries:
                if entry.kind != kind or (entry.dimension and entry.dimension.lower() != row.dimension.lower()):
                    continue
                if kind == "subscription" and row.dimension.lower().replace(" ", "") != "subscriptionid":
                    continue
                if fnmatch.fnmatchcase(value.lower(), entry.value.lower()):
                    return entry
        return None


def _entry(raw: dict, where: str) -> CostCentre:
    kinds = [k for k in KINDS if raw.get(k) not in (None, "")]
    if "kind" in raw and "value" in raw:
        kinds, raw = [str(raw["kind"]).strip().lower()], {**raw, str(raw["kind"]).strip().lower(): raw["value"]}
    if len(kinds) != 1 or kinds[0] not in KINDS:
        raise CostCentreError(f"{where}: give exactly one of {', '.join(KINDS)}")
    centre = str(raw.get("cost_centre") or raw.get("cost_center") or "").strip()
    if not centre:
        raise CostCentreError(f"{where}: cost_centre is empty")
    return CostCentre(kinds[0], str(raw[kinds[0]]).strip(), centre, str(raw.get("owner") or "").strip(),
                      str(raw.get("dimension") or "").strip())


def load_cost_centres(path: str) -> CostCentreMap:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CostCentreError(f"{path}: cannot read cost-centre map: {exc.strerror}") from None
    entries = []
    if path.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            entries.append(_entry({(k or "").strip().lower(): v for k, v in row.items()}, f"{path}:{reader.line_num}"))
    else:
        import yaml  # here, not at start-up (benchmarks/bench_startup.py)

        from ..bounded_yaml import load_yaml

        try:  # the one bounded YAML reader: a 600-byte alias bomb here took 2.7 GB through the unbounded loader
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise CostCentreError(f"{path}{f':{mark.line + 1}' if mark else ''}: invalid YAML: {problem}") from None
        except (ValueError, RecursionError) as exc:  # nested past the parser's depth
            raise CostCentreError(f"{path}: invalid YAML: {type(exc).__name__}") from None
        items = data.get("cost_centres", data.get("cost_centers")) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise CostCentreError(f"{path}: expected a `cost_centres` list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise CostCentreError(f"{path}: cost_centres[{i}] is not a mapping")
            entries.append(_entry(item, f"{path}: cost_centres[{i}]"))
    return CostCentreMap(tuple(entries), path)
