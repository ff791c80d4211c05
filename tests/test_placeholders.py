"""Every check accepts unresolved values: an estate whose every value is a placeholder audits without a crash.

Templates leave names, URLs, scopes and policy text partly unknown (`{apimName}`, `{reference(x).endpoint}`,
a redacted `list*()` result, and in the worst case an expression nobody could read, `[...]`). A check that
raises on one of them reports nothing for its rule; the engine shows the crash as a finding of that rule.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import prepare, run_audit
from aoai_audit.estate import (
    ALL_KINDS,
    AiAccount,
    Api,
    ApimService,
    Backend,
    Deployment,
    Diagnostic,
    DiagnosticSetting,
    Estate,
    Fragment,
    Logger,
    LogSetting,
    NamedValue,
    Operation,
    Product,
    RoleAssignment,
    RoleDefinition,
    SourceInfo,
    Workspace,
)
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.usage.model import UsageData, UsageRow

# what sources leave where a value is unknown: typed placeholders, a secret, and an unreadable expression
PLACEHOLDERS = (
    "{apimName}",
    "{reference(openai).properties.endpoint}",
    "{redacted: listKeys(openai).key1}",
    "[concat(parameters('a'), reference(resourceId('Microsoft.Resources/deployments', 'm')).outputs.x.value)]",
    "https://[{host}]:{port}/openai",
)


def _policy(p: str, scope: str):
    body = f"""<policies><inbound><base /><set-backend-service backend-id="{p}" base-url="{p}" />
<llm-emit-token-metric namespace="{p}"><dimension name="{p}" value="{p}" /></llm-emit-token-metric>
<set-header name="{p}" exists-action="override"><value>{p}</value></set-header>
<include-fragment fragment-id="{p}" /><rate-limit-by-key calls="{p}" renewal-period="{p}" counter-key="{p}" />
<set-variable name="{p}" value="{p}" /></inbound><backend><base /></backend>
<outbound><base /><log-to-eventhub logger-id="{p}">{p}</log-to-eventhub></outbound><on-error><base /></on-error></policies>"""
    return read_policy(body, scope=scope, path=p, resource_id=p, label=p)


def placeholder_estate(p: str) -> Estate:
    nv = NamedValue.read(p, p, False, False, p)
    api = Api(p, p, p, p, p, None, True, p, None, _policy(p, "api"),
              (Operation(p, p, p, p, _policy(p, "operation")), Operation(p, "POST", "/deployments/{id}/chat/completions")),
              (p,))
    service = ApimService(
        p, p, p, _policy(p, "global"), (Workspace(p, _policy(p, "workspace")),),
        (Product(p, p, None, (p,), None, _policy(p, "product")),), (api,),
        (Fragment(p, _policy(p, "fragment")),), (nv,), (Backend(p, p, "pool", (p, p), p), Backend(p + "2", p, "single", (), p)),
        (Logger(p, p, p),), (Diagnostic(p, p, p, None, None, p),),
    )
    account = AiAccount(p, p, p, p, p, None, p, p, (Deployment(p, p, p, p),))
    setting = DiagnosticSetting(p, p, p, (LogSetting(p, p, True),), (LogSetting(p, None, True),), p)
    row = UsageRow(dt.date(2026, 11, 1), dimension=p, consumer=p, service=p, api=p, product=p, model=p,
                   model_version=p, deployment=p, deployment_type=p, region=p, account=p, input_tokens=10,
                   output_tokens=5, total_tokens=15)
    platform = UsageRow(dt.date(2026, 11, 1), source="platform", model=p, deployment=p, account=p, total_tokens=20)
    return Estate(
        sources=(SourceInfo("arm", p, ALL_KINDS),), services=(service,), accounts=(account,),
        diagnostic_settings=(setting,), role_assignments=(RoleAssignment(p, p, p, p),),
        role_definitions=(RoleDefinition(p, p, (p,), (p,), (p,)),), reader_principal=p, root="",
        usage=UsageData((row, platform), (dt.date(2026, 11, 1), dt.date(2026, 11, 1)), p),
    )


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_every_check_accepts_placeholders(placeholder, registry):
    estate = placeholder_estate(placeholder)
    ctx = prepare(estate, Settings(reader_principal=placeholder))
    assert ctx.apis, "the estate has an API for the checks to look at"
    for check in registry.checks:
        list(check.run(ctx))  # raises on failure, naming the check in the traceback
    result = run_audit(estate, registry, Settings(reader_principal=placeholder))
    crashed = [f for f in result.findings if "failed and did not evaluate" in f.message]
    assert crashed == []
    assert {r.id for r in result.rules} == {c.rule.id for c in registry.checks}  # every rule ran
