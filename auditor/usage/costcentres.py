"""The cost-centre map: which attribution value, product or API — or which account, deployment, APIM service,
workspace or tagged resource — belongs to which cost centre and owner.

YAML (`cost_centres: [{consumer: marketing, cost_centre: CC-4100, owner: ...}]`) or CSV with the columns
`kind,value,cost_centre,owner` (kind: one of KINDS). Values may be globs. Consumer kinds map gateway usage rows;
resource kinds say who owns a resource whose spend is isolated by resource (RULES.md, "Attribution paths").
"""

from __future__ import annotations

import csv
import fnmatch
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .model import UsageRow

if TYPE_CHECKING:
    from ..estate import Tags  # estate imports usage.model: only the type, never a cycle at run time

CONSUMER_KINDS = ("consumer", "product", "api", "subscription")
# account: name or resource id; deployment: `account/deployment` or a deployment name; service: APIM service name
# or id; workspace: `service/workspace` or a workspace name; tag: `name=value` (value may be a glob) or `name`.
RESOURCE_KINDS = ("account", "deployment", "service", "workspace", "tag")
KINDS = CONSUMER_KINDS + RESOURCE_KINDS
TAG_VALUE = "{value}"  # a tag entry's cost_centre/owner may be the tag's own value (a `CostCenter` tag)


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

    def of_account(self, name: str, resource_id: str = "", tags: Tags = ()) -> CostCentre | None:
        """Who owns an AI account: an `account` entry (name or resource id), else a `tag` entry on its tags."""
        return self._resource("account", (name, resource_id)) or self.by_tags(tags)

    def of_deployment(self, account: str, deployment: str, tags: Tags = ()) -> CostCentre | None:
        """Who owns one deployment: a `deployment` entry (`account/deployment` or the name), else its tags. The
        account's own owner is not assumed here: a deployment of a shared account may be one team's."""
        return self._resource("deployment", (f"{account}/{deployment}", deployment)) or self.by_tags(tags)

    def of_service(self, name: str, resource_id: str = "", tags: Tags = ()) -> CostCentre | None:
        """Who owns an APIM service (one instance per team): a `service` entry, else its tags."""
        return self._resource("service", (name, resource_id)) or self.by_tags(tags)

    def of_workspace(self, service: str, workspace: str, tags: Tags = ()) -> CostCentre | None:
        """Who owns an APIM workspace (one workspace per team): a `workspace` entry, else its tags."""
        return self._resource("workspace", (f"{service}/{workspace}", workspace)) or self.by_tags(tags)

    def by_tags(self, tags: Tags) -> CostCentre | None:
        """The first `tag` entry a resource's tags match. Tag names compare case-insensitively, values
        case-sensitively, as Azure treats them (https://learn.microsoft.com/en-us/azure/azure-resource-manager/
        management/tag-resources#limitations). Only the resource's own tags count: tags Cost Management
        inherits from a resource group or subscription appear in cost data, not on the resource
        (https://learn.microsoft.com/en-us/azure/cost-management-billing/costs/enable-tag-inheritance)."""
        for entry in self.entries:
            if entry.kind != "tag":
                continue
            name, has_value, pattern = entry.value.partition("=")
            for tag_name, tag_value in tags:
                if tag_name.strip().lower() != name.strip().lower() or not tag_value.strip():
                    continue
                if has_value and not fnmatch.fnmatchcase(tag_value.strip(), pattern.strip()):
                    continue
                return replace(entry, cost_centre=entry.cost_centre.replace(TAG_VALUE, tag_value.strip()),
                               owner=entry.owner.replace(TAG_VALUE, tag_value.strip()))
        return None

    def _resource(self, kind: str, candidates: tuple[str, ...]) -> CostCentre | None:
        for entry in self.entries:
            if entry.kind == kind and any(c and fnmatch.fnmatchcase(c.lower(), entry.value.lower()) for c in candidates):
                return entry
        return None

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
    if "kind" in raw and "value" in raw and str(raw["kind"]).strip().lower() in KINDS:
        kinds, raw = [str(raw["kind"]).strip().lower()], {**raw, str(raw["kind"]).strip().lower(): raw["value"]}
    if len(kinds) != 1 or kinds[0] not in KINDS:
        raise CostCentreError(f"{where}: give exactly one of {', '.join(KINDS)}")
    centre = str(raw.get("cost_centre") or raw.get("cost_center") or "").strip()
    if not centre:
        raise CostCentreError(f"{where}: cost_centre is empty")
    value = raw[kinds[0]]
    if kinds[0] == "tag" and isinstance(value, dict) and len(value) == 1:  # `tag: {team: research}`
        value = "=".join(str(x).strip() for x in next(iter(value.items())))
    if not isinstance(value, (str, int, float)) or not str(value).strip():
        raise CostCentreError(f"{where}: {kinds[0]} must be a non-empty text")
    if kinds[0] == "tag" and not str(value).partition("=")[0].strip():
        raise CostCentreError(f"{where}: tag needs a name (`name` or `name=value`)")
    if TAG_VALUE in centre and kinds[0] != "tag":
        raise CostCentreError(f"{where}: cost_centre {TAG_VALUE} takes a tag's value: only for tag entries")
    if raw.get("dimension") and kinds[0] in RESOURCE_KINDS:
        raise CostCentreError(f"{where}: dimension applies to usage entries ({', '.join(CONSUMER_KINDS)}), "
                              f"not to {kinds[0]}")
    return CostCentre(kinds[0], str(value).strip(), centre, str(raw.get("owner") or "").strip(),
                      str(raw.get("dimension") or "").strip())


def load_cost_centres(path: str) -> CostCentreMap:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CostCentreError(f"{path}: cannot read cost-centre map: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CostCentreError(f"{path}: cost-centre map is not UTF-8 text (byte {exc.start})") from None
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
