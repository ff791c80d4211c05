"""Settings from `--config FILE` (YAML) and the command line. Bad config is a usage error naming the file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class SuppressionRule:
    rule: str  # rule id or "*"
    resource: str  # glob over the finding's resource path
    reason: str
    expires: dt.date | None = None

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
    suppressions: tuple[SuppressionRule, ...] = ()
    unknown_share_threshold: float = 0.05
    reconciliation_threshold: float = 0.05
    reader_principal: str | None = None  # object id of the identity that produces chargeback data
    prices: PriceTable | None = None  # None: the table shipped with the tool
    cost_centres: CostCentreMap | None = None
    today: dt.date = field(default_factory=dt.date.today)

    def selects(self, rule_id: str) -> bool:
        if self.only and rule_id not in self.only:
            return False
        return rule_id not in self.skip

    def with_cli(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _rule_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule ids")
    return tuple(v.strip().upper() for v in value)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: expires must be a date like 2026-12-31, got {value!r}") from None


def load_settings(path: str | None) -> Settings:
    if not path:
        return Settings()
    import yaml  # here, not at start-up: most runs have no config file

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping")
    known = {
        "fail_on", "only", "skip", "llm_apis", "attribution_headers", "suppressions", "thresholds", "reader_principal",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    fail_on = str(raw.get("fail_on", "high"))
    if fail_on not in FAIL_LEVELS:
        raise ConfigError(f"{path}: fail_on must be one of {', '.join(FAIL_LEVELS)}")
    llm = raw.get("llm_apis") or {}
    if not isinstance(llm, dict):
        raise ConfigError(f"{path}: llm_apis must be a mapping with include/exclude lists")
    suppressions = []
    for i, entry in enumerate(raw.get("suppressions") or []):
        where = f"{path}: suppressions[{i}]"
        if not isinstance(entry, dict) or "rule" not in entry:
            raise ConfigError(f"{where}: needs at least `rule` and `reason`")
        if not str(entry.get("reason", "")).strip():
            raise ConfigError(f"{where}: a suppression needs a reason")
        suppressions.append(
            SuppressionRule(
                rule=str(entry["rule"]).upper(),
                resource=str(entry.get("resource", "*")),
                reason=str(entry["reason"]).strip(),
                expires=_date(entry.get("expires"), where),
            )
        )
    thresholds = raw.get("thresholds") or {}
    headers = _str_list(raw.get("attribution_headers"), f"{path}: attribution_headers")
    return Settings(
        fail_on=fail_on,
        only=_rule_list(raw.get("only"), f"{path}: only"),
        skip=_rule_list(raw.get("skip"), f"{path}: skip"),
        llm_include=_str_list(llm.get("include"), f"{path}: llm_apis.include"),
        llm_exclude=_str_list(llm.get("exclude"), f"{path}: llm_apis.exclude"),
        attribution_headers=tuple(h.lower() for h in headers) or DEFAULT_ATTRIBUTION_HEADERS,
        suppressions=tuple(suppressions),
        unknown_share_threshold=float(thresholds.get("unknown_share", 0.05)),
        reconciliation_threshold=float(thresholds.get("reconciliation", 0.05)),
        reader_principal=str(raw["reader_principal"]) if raw.get("reader_principal") else None,
    )
