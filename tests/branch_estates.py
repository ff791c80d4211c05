"""In-process estates for the branch tests (issue 29): LLM APIs (with operations, in a workspace, under a global
policy) built as the sources build them, audited by one check without touching the file system."""

from __future__ import annotations

from aoai_audit.config import Settings
from aoai_audit.context import AuditContext, build_context
from aoai_audit.estate import Api, ApimService, Estate, Operation, Product, SourceInfo, Workspace
from aoai_audit.findings import Finding
from aoai_audit.policy.rawxml import read_policy

AOAI = "https://a.openai.azure.com/openai"
METRIC = ('<llm-emit-token-metric><dimension name="Team" value="@(context.Request.Headers.GetValueOrDefault('
          '&quot;x-team&quot;, &quot;&quot;))" /></llm-emit-token-metric>')


def _policies(inbound: str, base: bool = True) -> str:
    head = "<base />" if base else ""
    return (f"<policies><inbound>{head}{inbound}</inbound><backend><base /></backend><outbound><base /></outbound>"
            "</policies>")


def operation(name: str, inbound: str, base: bool = True) -> Operation:
    """An operation with its own inbound statements (after `<base/>` unless base=False)."""
    return Operation(name, "POST", f"/{name}", policy=read_policy(_policies(inbound, base), scope="operation",
                                                                  label=f"operation '{name}'"))


def api(name: str, inbound: str, display: str = "", subscription: bool | None = True, *,
        operations: tuple[Operation, ...] = (), workspace: str | None = None, base: bool = True) -> Api:
    """An Azure OpenAI API whose inbound section holds `inbound` (after `<base/>` unless base=False)."""
    return Api(name, display, name, AOAI, subscription_required=subscription, workspace=workspace,
               operations=operations, policy=read_policy(_policies(inbound, base), scope="api", label=f"api '{name}'"))


def estate_context(*apis: Api, global_inbound: str | None = None, products: tuple[Product, ...] = (),
                   workspace_inbound: str | None = None) -> AuditContext:
    """Service 'apim' holding these APIs and products (and the workspaces they name, each with `workspace_inbound`
    as its policy when given, without `<base/>`), resolved for the checks."""
    source = SourceInfo("apiops", "x/", frozenset({"apis", "policies"}))
    glob = read_policy(_policies(global_inbound, base=False), scope="global", label="global") \
        if global_inbound is not None else None
    ws_policy = read_policy(_policies(workspace_inbound, base=False), scope="workspace", label="workspace") \
        if workspace_inbound is not None else None
    workspaces = tuple(Workspace(w, ws_policy) for w in sorted({a.workspace for a in (*apis, *products) if a.workspace}))
    service = ApimService("apim", apis=apis, products=products, global_policy=glob, workspaces=workspaces)
    return build_context(Estate(sources=(source,), services=(service,)), Settings())


def audit_estate(check, *apis: Api, global_inbound: str | None = None) -> list[Finding]:
    """The findings of one check on service 'apim' holding these APIs."""
    return list(check.check(estate_context(*apis, global_inbound=global_inbound)))


def run(check, *apis: Api) -> list[tuple[str, str]]:
    return [(f.resource, f.message) for f in audit_estate(check, *apis)]
