"""Reading Azure Monitor diagnostic settings: which resource sends which log category, shared by the DG rules
and the usage queries (a gateway LLM log query only makes sense where the logs go)."""

from __future__ import annotations

from .estate import DiagnosticSetting, Estate


def settings_on(estate: Estate, resource_id: str) -> list[DiagnosticSetting]:
    rid = resource_id.rstrip("/").lower()
    return [d for d in estate.diagnostic_settings if d.resource_id.rstrip("/").lower() == rid]


def sends_category(setting: DiagnosticSetting, category: str) -> bool:
    """The setting sends this log category to its destination (directly or through a category group)."""
    for log in setting.logs:
        if not log.enabled:
            continue
        if (log.category or "").lower() == category.lower():
            return True
        if (log.category_group or "").lower() in ("alllogs",):
            return True
    return False
