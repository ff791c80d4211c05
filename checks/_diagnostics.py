"""Shared reading of Azure Monitor diagnostic settings for the DG rules."""

from __future__ import annotations

from aoai_audit.estate import DiagnosticSetting, Estate


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


def sends_any_log(setting: DiagnosticSetting) -> bool:
    return any(log.enabled for log in setting.logs)


def sends_metrics(setting: DiagnosticSetting) -> bool:
    return any(m.enabled for m in setting.metrics)


def describe(setting: DiagnosticSetting) -> str:
    logs = [log.category or f"group {log.category_group}" for log in setting.logs if log.enabled] or ["no logs"]
    metrics = "metrics on" if sends_metrics(setting) else "metrics off"
    where = f"workspace {setting.workspace_id}" if setting.workspace_id else "no Log Analytics workspace"
    return f"setting '{setting.name}': {', '.join(logs)}; {metrics}; {where}"
