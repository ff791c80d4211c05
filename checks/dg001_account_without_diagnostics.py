"""DG001: an Azure OpenAI account whose own logs and metrics go nowhere queryable."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ACCOUNTS
from aoai_audit.findings import Severity
from aoai_audit.gaps import unknown_for
from aoai_audit.rules import LOSS_NONE, RISK_SERVED, Rule, Stake

from . import _refs
from ._diagnostics import describe, sends_any_log, sends_metrics, settings_on
from ._support import at, named

RULE = Rule(
    id="DG001",
    title="Azure OpenAI account sends no logs and metrics to Log Analytics",
    severity=Severity.MEDIUM,
    stake=Stake(LOSS_NONE, RISK_SERVED),
    rationale=(
        "The account's own request logs and platform token metrics are the ground truth the gateway's figures "
        "are reconciled against (KQ003), and the only record of calls that bypass the gateway. Without a "
        "diagnostic setting sending them to a Log Analytics workspace they are kept 30 days in metrics only and "
        "cannot be queried with the gateway logs."
    ),
    detection=(
        "Each Azure OpenAI / AI Services account is looked up in the diagnostic settings read: at least one "
        "setting must send some log category and the metrics to a Log Analytics workspace (`workspaceId`). "
        "Evaluated wherever accounts are: an input that declares or reads an account is about that account's "
        "diagnostics, whether or not it holds any diagnostic setting. A template's account is judged by the "
        "settings in everything scanned with it (a setting declared in another template counts when that template "
        "is scanned in the same run). An account whose settings could not be read (403, or a setting in the "
        "template that could not be evaluated) is not reported here: unknown is not none, and AU001/AU002 reports "
        "the failed read."
    ),
    fix="Add a diagnostic setting sending all logs and AllMetrics to the workspace that holds the gateway logs.",
    fix_snippet="""{
  "type": "Microsoft.Insights/diagnosticSettings",
  "apiVersion": "2021-05-01-preview",
  "scope": "[resourceId('Microsoft.CognitiveServices/accounts', parameters('aoaiName'))]",
  "name": "to-log-analytics",
  "properties": {
    "workspaceId": "[parameters('workspaceId')]",
    "logs": [ { "categoryGroup": "allLogs", "enabled": true } ],
    "metrics": [ { "category": "AllMetrics", "enabled": true } ]
  }
}""",
    references=(_refs.DIAGNOSTIC_SETTINGS, _refs.AOAI_MONITORING),
    requires=frozenset({CARRIES_ACCOUNTS}),
)


def check(ctx: AuditContext):
    for account in ctx.estate.accounts:
        settings = settings_on(ctx.estate, account.resource_id)
        to_workspace = [s for s in settings if s.workspace_id]
        # Logs and metrics may be sent by different settings (a resource holds up to five, each with its own
        # categories): https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings
        if any(sends_any_log(s) for s in to_workspace) and any(sends_metrics(s) for s in to_workspace):
            continue
        if unknown_for(ctx.estate.gaps, account.resource_id, "diagnosticSettings", account.origin.path):
            continue  # could not be read: AU001 (or AU002 for a template) says so, and names what is needed
        if not settings:
            why = "has no diagnostic setting"
            if account.origin.path:  # declared in a template: its setting may live in another one
                why += (
                    f" in what was scanned (declared in {account.origin.path}; a diagnostic setting declared in "
                    "another template is seen only when that template is scanned together with this one)"
                )
        elif not to_workspace:
            why = "has diagnostic settings, none to a Log Analytics workspace"
        else:
            why = "sends " + ("no logs" if not any(sends_any_log(s) for s in to_workspace) else "no metrics") + (
                " to Log Analytics"
            )
        yield RULE.finding(
            account.resource_id,
            f"{named('account', account.name, account.origin, 'Azure OpenAI')} {why}; its own usage cannot be queried or reconciled",
            location=at(account.origin, account.resource_id),
            evidence=[describe(s) for s in settings],
        )
