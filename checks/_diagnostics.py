"""Shared reading of Azure Monitor diagnostic settings for the DG rules."""

from __future__ import annotations

from aoai_audit.diagnostics import sends_category, settings_on
from aoai_audit.estate import DiagnosticSetting

__all__ = ["describe", "sends_any_log", "sends_category", "sends_metrics", "settings_on"]


def sends_any_log(setting: DiagnosticSetting) -> bool:
    return any(log.enabled for log in setting.logs)


def sends_metrics(setting: DiagnosticSetting) -> bool:
    return any(m.enabled for m in setting.metrics)


def describe(setting: DiagnosticSetting) -> str:
    logs = [log.category or f"group {log.category_group}" for log in setting.logs if log.enabled] or ["no logs"]
    metrics = "metrics on" if sends_metrics(setting) else "metrics off"
    where = f"workspace {setting.workspace_id}" if setting.workspace_id else "no Log Analytics workspace"
    who = setting.origin.scope if setting.origin.scope.startswith("every ") else f"setting '{setting.name}'"
    return f"{who}: {', '.join(logs)}; {metrics}; {where}"
