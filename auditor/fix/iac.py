"""ARM templates and Terraform plans are generated (their source is Bicep or HCL): the fix never edits the JSON.
For each finding it would repair, it names the statement, the policy it goes in (API, product, fragment) and the
Bicep/ARM or HCL resource whose policy value holds it, for a person to put in the source. The placement of a
missing token metric is decided as for an APIOps estate (`placement.py`: the estate's scope, never metered twice).

Where a policy lives in each source:
- Bicep/ARM: the `properties.value` of `Microsoft.ApiManagement/service/policies`, `.../apis/policies`,
  `.../apis/operations/policies`, `.../products/policies` and `Microsoft.ApiManagement/service/policyFragments`
  (https://learn.microsoft.com/azure/templates/microsoft.apimanagement/service/apis/policies, "PolicyContractProperties":
  `value`, "Contents of the Policy as defined by the format"; the same for the other policy types).
- Terraform azurerm: `xml_content` of `azurerm_api_management_policy`, `_api_policy`, `_api_operation_policy`,
  `_product_policy`; `value` of `azurerm_api_management_policy_fragment`
  (https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/api_management_api_policy,
  "xml_content"; https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/api_management_policy_fragment,
  "value"); AzAPI: `body.properties.value` of the `azapi_resource` of the ARM type.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..engine import AuditResult
from ..findings import Finding
from ..policy.tree import Origin
from .conventions import MAX_DIMENSIONS, fragment_include, read_conventions
from .model import Declined, Statement
from .ownership import owner_of
from .placement import Site, placements

EDITABLE_SOURCES = frozenset({"apiops", "policy-files"})  # what the fix edits; the rest is generated or live
_ARM_TYPES = {
    "global": "Microsoft.ApiManagement/service/policies",
    "api": "Microsoft.ApiManagement/service/apis/policies",
    "operation": "Microsoft.ApiManagement/service/apis/operations/policies",
    "product": "Microsoft.ApiManagement/service/products/policies",
    "fragment": "Microsoft.ApiManagement/service/policyFragments",
}
_TF_TYPES = {
    "global": "azurerm_api_management_policy",
    "api": "azurerm_api_management_api_policy",
    "operation": "azurerm_api_management_api_operation_policy",
    "product": "azurerm_api_management_product_policy",
    "fragment": "azurerm_api_management_policy_fragment",
}


def generated_files(result: AuditResult) -> frozenset[str]:
    """The inputs the fix never edits: ARM templates (compiled from Bicep), `terraform show -json` output."""
    return frozenset(os.path.normpath(s.location) for s in result.estate.sources if s.kind not in EDITABLE_SOURCES)


def in_generated(f: Finding, files: frozenset[str]) -> bool:
    """The finding points into a generated input, or, in a run over one, at no file at all (an entity a template
    declares without a policy of its own): a statement to add by hand, never an edit."""
    path = f.location.path
    return bool(files) and (not path or os.path.normpath(path) in files)


def _is_arm(resource_id: str) -> bool:
    return resource_id.startswith("/subscriptions/") or "/providers/" in resource_id


def holder(origin: Origin | None, scope: str, declared: bool = True) -> str:
    """The Bicep/ARM or HCL resource (and its attribute) whose policy value the statement goes in."""
    rid = (origin.resource_id if origin else None) or ""
    if not declared:  # the entity has no policy resource yet: say which to add, in both languages
        return (f"a new {_ARM_TYPES[scope]} resource (Bicep/ARM, `properties.value`) or {_TF_TYPES[scope]} "
                f"(HCL, `{'value' if scope == 'fragment' else 'xml_content'}`) for {rid or 'it'}, holding "
                "<policies><inbound><base /> … </inbound></policies>")
    if _is_arm(rid):
        return f"the Bicep/ARM resource {_ARM_TYPES.get(scope, 'policy')} {rid}, its `properties.value`"
    kind = rid.split(".")[-2] if rid.count(".") >= 1 else ""
    attr = "body.properties.value" if kind == "azapi_resource" else "value" if kind.endswith("_fragment") \
        else "xml_content"
    return f"the HCL resource {rid or '?'}, its `{attr}`"


def _in_file(origin: Origin | None, shown: Callable[[str], str]) -> str:
    if origin is None or not origin.path:
        return ""
    return f" (in {shown(origin.path)}:{origin.line})" if origin.line else f" (in {shown(origin.path)})"


def _at_finding(f: Finding, shown: Callable[[str], str]) -> str:
    loc = f.location
    origin = Origin(loc.path, loc.line, loc.resource_id, "")
    scope = "operation" if "/operations/" in f.resource else "api"
    return holder(origin, scope) + _in_file(origin, shown)


def iac_statements(result: AuditResult, rules: list[str], shown: Callable[[str], str]) \
        -> tuple[list[Statement], list[Declined]]:
    """The statements to add by hand for the findings in generated templates, and the ones left alone (with why).
    `shown`: a file of the audited copy as the user gave it."""
    ctx = result.ctx
    out: list[Statement] = []
    declined: list[Declined] = []
    files = generated_files(result)
    mine = [f for f in result.findings if f.rule_id in rules and in_generated(f, files)]
    # restoring <base /> comes first, as in an APIOps run: it often brings back the metric and the header itself
    rebased = {f.resource.split("/operations/")[0] for f in mine if f.rule_id == "TM007"}
    for f in mine:
        if f.rule_id in ("TM001", "HD001") and f.resource.split("/operations/")[0] in rebased:
            declined.append(Declined(f.rule_id, f.resource, "restore <base /> first (the TM007 statement): it brings "
                                     "back what the outer scopes add; scan again after adding it"))
        elif f.rule_id == "TM007":
            out.append(Statement(f.rule_id, f.resource, f"first in <inbound> of {_at_finding(f, shown)}", "<base />"))
        elif f.rule_id == "TM004":
            out.append(Statement(f.rule_id, f.resource, f"in {_at_finding(f, shown)}: rename the start and end tag "
                                 "(attributes and dimensions unchanged)", "<llm-emit-token-metric>"))
        elif f.rule_id == "TM006":
            out.append(Statement(f.rule_id, f.resource, f"in {_at_finding(f, shown)}: remove a <dimension> only "
                                 "where it exactly repeats another", f"at most {MAX_DIMENSIONS} <dimension> elements"))
        elif f.rule_id in ("TM001", "HD001"):
            found = _metric_or_header(ctx, f, shown)
            if isinstance(found, str):
                declined.append(Declined(f.rule_id, f.resource, found))
            else:
                out.append(found)
    return list(dict.fromkeys(out)), declined


def _metric_or_header(ctx, f: Finding, shown: Callable[[str], str]) -> Statement | str:
    view = next((v for v in ctx.llm_apis if v.resource == f.resource), None)
    if view is None:
        return "only some operations lack it: add it to the operation's policy by hand"
    why = owner_of(ctx, view)
    if why:
        return f"left alone: {why}"
    conv = read_conventions(ctx, view.service, view.api.workspace)
    if f.rule_id == "HD001":
        if not conv.header_fragments:
            return "the estate forwards no attribution header through a fragment to include; see the rule's fix"
        site = Site("api", view.api.name, "", None, view.api.policy.origin if view.api.policy else view.api.origin,
                    view.api.policy is not None)
        return Statement(f.rule_id, f.resource, _where(site, shown), fragment_include(conv.header_fragments[0]))
    if not conv.attributes_at_gateway:
        return ("the service emits no token metric with a consumer dimension anywhere: it does not attribute at the "
                "gateway, so there is no metric of its own to copy")
    statement = fragment_include(conv.metric_fragments[0]) if conv.metric_fragments else conv.metric_statement()
    if statement is None:
        return "the estate's token metrics use no fragment and no built-in consumer dimension to copy"
    found, why_not = placements(ctx, view, f, conv.metric_scope, None)
    if not found:
        return "no policy takes the metric without metering some calls twice: " + "; ".join(why_not)
    where = "; and ".join(_where(site, shown) for site in found[0].sites)
    return Statement(f.rule_id, f.resource, where, statement)


def _where(site: Site, shown: Callable[[str], str]) -> str:
    return (f"last in <inbound> of the policy of {site.label()}: {holder(site.origin, site.scope, site.declared)}"
            f"{_in_file(site.origin, shown)}")
