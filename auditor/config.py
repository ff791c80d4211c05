"""Settings from `--config FILE` (YAML) and the command line. Bad config is a usage error naming the file."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bounded_yaml import loader_class

if TYPE_CHECKING:
    from .usage.costcentres import CostCentreMap
    from .usage.prices import PriceTable

DEFAULT_ATTRIBUTION_HEADERS = (
    "x-attribution-*",
    "x-team*",
    "x-cost-cent*",
    "x-costcent*",
    "x-chargeback*",
    "x-consumer*",
    "x-caller*",
    "x-tenant*",
    "x-business-unit*",
    "x-app-id",
    "x-client-id",
    "x-user-id",
)
FAIL_LEVELS = ("high", "medium", "low", "never")
# Tag names that name the team owning an account, deployment, APIM service or workspace (auditor/attribution),
# compared with case, '-', '_', '.' and spaces ignored; configurable as `owner_tags`. A team or a cost centre
# names who pays; "owner" is left out on purpose: the Cloud Adoption Framework's tagging guide uses it for a
# person (https://learn.microsoft.com/en-us/azure/cloud-adoption-framework/ready/azure-best-practices/resource-tagging).
DEFAULT_OWNER_TAGS = ("team", "team-name", "owner-team", "cost-center", "cost-centre", "business-unit", "chargeback")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class SuppressionRule:
    rule: str  # rule id or "*"
    resource: str  # glob over the finding's resource path
    reason: str
    expires: dt.date | None = None
    origin: str = field(default="", compare=False)  # "file suppressions[2]", named by the reports

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today


@dataclass(frozen=True)
class Settings:
    fail_on: str = "high"
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    llm_include: tuple[str, ...] = ()
    llm_exclude: tuple[str, ...] = ()
    attribution_headers: tuple[str, ...] = DEFAULT_ATTRIBUTION_HEADERS
    owner_tags: tuple[str, ...] = DEFAULT_OWNER_TAGS
    suppressions: tuple[SuppressionRule, ...] = ()
    unknown_share_threshold: float = 0.05
    reconciliation_threshold: float = 0.05
    reader_principal: str | None = None  # object id of the identity that produces chargeback data
    service_name: str | None = None  # the APIM service of APIOps folders whose extractor config does not name it
    prices: PriceTable | None = None  # None: the table shipped with the tool
    cost_centres: CostCentreMap | None = None
    today: dt.date = field(default_factory=dt.date.today)
    source: str = ""  # the config file these settings came from, for messages

    def selects(self, rule_id: str) -> bool:
        if self.only and rule_id not in self.only:
            return False
        return rule_id not in self.skip

    def with_cli(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


MAX_CONFIG_BYTES = 1 << 20  # a config is a few lines; anything larger is not one


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__


def _fail(where: str, expected: str, value: Any) -> ConfigError:
    shown = "" if isinstance(value, (list, dict)) or value is None else f" {str(value)[:40]!r}"
    return ConfigError(f"{where}: expected {expected}, got {_kind(value)}{shown}")


def _key(key: Any) -> str:
    """A key as a message shows it: plain when it is a plain word, quoted (one line) otherwise."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", text) else repr(text[:40])


def _mapping(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A mapping with only these keys; null (an empty YAML section) is an empty mapping."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(where, f"a mapping with {', '.join(keys)}", value)
    unknown = sorted(_key(k) for k in value if k not in keys)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(keys)})")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, "a list", value)
    return value


def _rule_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    items = _list(value, where)
    for i, v in enumerate(items):
        if not isinstance(v, str) or not v.strip():
            raise _fail(f"{where}[{i}]", "a rule id such as TM001", v)
    return tuple(v.strip().upper() for v in items)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    items = _list(value, where)
    for i, v in enumerate(items):
        if not isinstance(v, str):
            raise _fail(f"{where}[{i}]", "a string", v)
    return tuple(items)


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(where, "a non-empty string" if required else "a string", value)
    return value.strip()


def _date(value: Any, where: str) -> dt.date | None:
    """A calendar day: YAML's 2026-12-31 or the string "2026-12-31"; a time of day is refused, not truncated."""
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(where, "a date like 2026-12-31 (no time of day)", value)


def _share(value: Any, where: str, default: float) -> float:
    """A share of tokens: a finite number from 0 to 1 (0.05 is 5%). NaN would turn its rule off silently."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
        raise _fail(where, "a number from 0 to 1 (0.05 is 5%)", value)
    return float(value)


def read_yaml(path: str) -> Any:
    """One YAML document, bounded in size and aliases; every failure is a ConfigError naming the file."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB; not a config file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    import yaml

    loader = None
    try:
        loader = loader_class(dates_as_text=True)(text)  # safe and bounded; dates stay text, checked per key
        node = loader.get_single_node()
        if node is not None and node.tag == "tag:yaml.org,2002:null":
            raise ConfigError(f"{path}: expected a mapping, got null")
        return None if node is None else loader.construct_document(node)  # None: a blank file
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from None
    except (RecursionError, ValueError, OverflowError) as exc:  # 10,000 nested brackets, dates out of range
        raise ConfigError(f"{path}: invalid YAML: {type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()


KEYS = ("fail_on", "only", "skip", "llm_apis", "attribution_headers", "suppressions", "thresholds", "reader_principal",
        "service_name", "owner_tags")


def load_settings(path: str | None) -> Settings:
    """Settings from a YAML file; a file of the wrong shape is one ConfigError naming the file and the key."""
    if not path:
        return Settings()
    from .findings import RULE_ID  # only when a config is read

    raw = read_yaml(path)
    if raw is None:
        return Settings(source=path)  # a blank file (or only comments)
    if not isinstance(raw, dict):
        raise _fail(path, f"a mapping with some of {', '.join(KEYS)}", raw)
    unknown = sorted(_key(k) for k in raw if k not in KEYS)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (known: {', '.join(KEYS)})")
    fail_on = raw.get("fail_on", "high")
    if fail_on not in FAIL_LEVELS:
        raise _fail(f"{path}: fail_on", f"one of {', '.join(FAIL_LEVELS)}", fail_on)
    llm = _mapping(raw.get("llm_apis"), f"{path}: llm_apis", ("include", "exclude"))
    suppressions = []
    for i, entry in enumerate(_list(raw.get("suppressions"), f"{path}: suppressions")):
        where = f"{path}: suppressions[{i}]"
        entry = _mapping(entry, where, ("rule", "resource", "reason", "expires"))
        if "rule" not in entry or "reason" not in entry:
            raise ConfigError(f"{where}: needs `rule` and `reason` (and optionally `resource`, `expires`)")
        rule = _text(entry["rule"], f"{where}.rule", required=True).upper()
        if rule != "*" and not RULE_ID.match(rule):
            raise _fail(f"{where}.rule", "a rule id such as TM001, or *", entry["rule"])
        suppressions.append(
            SuppressionRule(
                rule=rule,
                resource=_text(entry.get("resource", "*"), f"{where}.resource", required=True),
                reason=_text(entry["reason"], f"{where}.reason", required=True),
                expires=_date(entry.get("expires"), f"{where}.expires"),
                origin=f"{path} suppressions[{i}]",
            )
        )
    thresholds = _mapping(raw.get("thresholds"), f"{path}: thresholds", ("unknown_share", "reconciliation"))
    headers = _str_list(raw.get("attribution_headers"), f"{path}: attribution_headers")
    owner_tags = tuple(t.strip() for t in _str_list(raw.get("owner_tags"), f"{path}: owner_tags") if t.strip())
    principal = raw.get("reader_principal")
    return Settings(
        fail_on=fail_on,
        only=_rule_list(raw.get("only"), f"{path}: only"),
        skip=_rule_list(raw.get("skip"), f"{path}: skip"),
        llm_include=_str_list(llm.get("include"), f"{path}: llm_apis.include"),
        llm_exclude=_str_list(llm.get("exclude"), f"{path}: llm_apis.exclude"),
        attribution_headers=tuple(h.lower() for h in headers) or DEFAULT_ATTRIBUTION_HEADERS,
        owner_tags=owner_tags or DEFAULT_OWNER_TAGS,
        suppressions=tuple(suppressions),
        unknown_share_threshold=_share(thresholds.get("unknown_share"), f"{path}: thresholds.unknown_share", 0.05),
        reconciliation_threshold=_share(thresholds.get("reconciliation"), f"{path}: thresholds.reconciliation", 0.05),
        reader_principal=_text(principal, f"{path}: reader_principal", required=True) if principal is not None else None,
        service_name=_text(raw["service_name"], f"{path}: service_name", required=True)
        if raw.get("service_name") is not None else None,
        source=path,
    )


def unknown_rule_ids(settings: Settings, known: Callable[[str], bool]) -> str | None:
    """The first rule id the settings name that no installed check has, as `file: key: message`, else None."""
    where = f"{settings.source}: " if settings.source else ""
    for key, ids in (("only", settings.only), ("skip", settings.skip)):
        for i, rule_id in enumerate(ids):
            if not known(rule_id):
                return f"{where}{key}[{i}]: unknown rule id {_key(rule_id)} (see `aoai-audit rules`)"
    for i, s in enumerate(settings.suppressions):
        if s.rule != "*" and not known(s.rule):
            return f"{where}suppressions[{i}].rule: unknown rule id {s.rule} (see `aoai-audit rules`)"
    return None
