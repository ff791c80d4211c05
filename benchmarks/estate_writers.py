"""Write an estate as an ARM template or as `terraform show -json` output.

The same estate in every source format: the IaC parity tests audit the bundled example through each
and expect the same findings, and the benchmarks compare sources (and peers) on identical estates.
Policy text is written as read (already redacted).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from aoai_audit.estate import Estate

API_VERSION = "2024-05-01"


def _policy(policy, fmt: str = "rawxml") -> dict[str, Any]:
    return {"format": fmt, "value": policy.text}


def to_arm(estate: Estate) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []

    def add(rtype: str, name: str, props: dict[str, Any], **extra: Any) -> None:
        resources.append({"type": f"Microsoft.ApiManagement/service{rtype}", "apiVersion": API_VERSION,
                          "name": name, "properties": props, **extra})

    for svc in estate.services:
        s = svc.name
        add("", s, {"publisherEmail": "apim@example.com", "publisherName": "example"}, location=svc.location or "eastus")
        if svc.global_policy is not None:
            add("/policies", f"{s}/policy", _policy(svc.global_policy))
        for frag in svc.fragments:
            add("/policyFragments", f"{s}/{frag.name}", _policy(frag.policy))
        for nv in svc.named_values:
            props: dict[str, Any] = {"displayName": nv.display_name or nv.name, "secret": nv.secret}
            if nv.value is not None:
                props["value"] = nv.value
            add("/namedValues", f"{s}/{nv.name}", props)
        for b in svc.backends:
            props = {"url": b.url, "protocol": "http"}
            if b.backend_type == "pool":
                props = {"type": "Pool", "pool": {"services": [{"id": m} for m in b.pool_members]}}
            add("/backends", f"{s}/{b.name}", props)
        for lg in svc.loggers:
            add("/loggers", f"{s}/{lg.name}", {"loggerType": lg.logger_type, "resourceId": lg.resource_id})
        for d in svc.diagnostics:
            props = {"loggerId": d.logger_id}
            if d.metrics is not None:
                props["metrics"] = d.metrics
            if d.sampling_percentage is not None:
                props["sampling"] = {"samplingType": "fixed", "percentage": d.sampling_percentage}
            add("/apis/diagnostics" if d.api else "/diagnostics", f"{s}/{d.api}/{d.name}" if d.api else f"{s}/{d.name}", props)
        for api in svc.apis:
            props = {"displayName": api.display_name, "path": api.path, "serviceUrl": api.service_url,
                     "protocols": ["https"]}
            if api.subscription_required is not None:
                props["subscriptionRequired"] = api.subscription_required
            add("/apis", f"{s}/{api.name}", props)
            if api.policy is not None:
                add("/apis/policies", f"{s}/{api.name}/policy", _policy(api.policy))
            for op in api.operations:
                add("/apis/operations", f"{s}/{api.name}/{op.name}",
                    {"displayName": op.display_name or op.name, "method": op.method or "POST",
                     "urlTemplate": op.url_template or "/"})
                if op.policy is not None:
                    add("/apis/operations/policies", f"{s}/{api.name}/{op.name}/policy", _policy(op.policy))
        for product in svc.products:
            props = {"displayName": product.display_name}
            if product.subscription_required is not None:
                props["subscriptionRequired"] = product.subscription_required
            add("/products", f"{s}/{product.name}", props)
            for api_name in product.apis:
                add("/products/apis", f"{s}/{product.name}/{api_name}", {})
            if product.policy is not None:
                add("/products/policies", f"{s}/{product.name}/policy", _policy(product.policy))
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": resources,
    }


def to_terraform(estate: Estate) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []

    def add(rtype: str, name: str, values: dict[str, Any]) -> None:
        key = "".join(c if c.isalnum() else "_" for c in name)
        resources.append({"address": f"{rtype}.{key}", "mode": "managed", "type": rtype, "name": key,
                          "provider_name": "registry.terraform.io/hashicorp/azurerm", "values": values})

    for svc in estate.services:
        s = {"api_management_name": svc.name, "resource_group_name": "rg-apim"}
        add("azurerm_api_management", svc.name, {"name": svc.name, "location": svc.location or "eastus",
                                                 "resource_group_name": "rg-apim"})
        if svc.global_policy is not None:
            add("azurerm_api_management_policy", f"{svc.name}_global",
                {"api_management_id": f"/subscriptions/x/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/{svc.name}",
                 "xml_content": svc.global_policy.text})
        for frag in svc.fragments:
            add("azurerm_api_management_policy_fragment", frag.name,
                {"api_management_id": f"/subscriptions/x/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/{svc.name}",
                 "name": frag.name, "format": "rawxml", "value": frag.policy.text})
        for nv in svc.named_values:
            add("azurerm_api_management_named_value", nv.name,
                {**s, "name": nv.name, "display_name": nv.display_name, "secret": nv.secret, "value": nv.value})
        for b in svc.backends:
            add("azurerm_api_management_backend", b.name, {**s, "name": b.name, "url": b.url, "protocol": "http"})
        for lg in svc.loggers:
            block = {"application_insights": [{"instrumentation_key": "***"}]} if lg.logger_type.lower() == "applicationinsights" else {}
            add("azurerm_api_management_logger", lg.name, {**s, "name": lg.name, "resource_id": lg.resource_id, **block})
        for d in svc.diagnostics:
            values = {**s, "identifier": d.name, "api_management_logger_id": f"/loggers/{d.logger_id.rsplit('/', 1)[-1]}",
                      "sampling_percentage": d.sampling_percentage}
            if d.metrics is not None:
                values["metrics"] = d.metrics
            if d.api:
                values["api_name"] = d.api
            add("azurerm_api_management_api_diagnostic" if d.api else "azurerm_api_management_diagnostic",
                f"{d.api or ''}_{d.name}", values)
        for api in svc.apis:
            add("azurerm_api_management_api", api.name,
                {**s, "name": api.name, "display_name": api.display_name, "path": api.path, "revision": "1",
                 "service_url": api.service_url, "subscription_required": api.subscription_required,
                 "protocols": ["https"]})
            if api.policy is not None:
                add("azurerm_api_management_api_policy", api.name, {**s, "api_name": api.name, "xml_content": api.policy.text})
            for op in api.operations:
                add("azurerm_api_management_api_operation", f"{api.name}_{op.name}",
                    {**s, "api_name": api.name, "operation_id": op.name, "display_name": op.display_name or op.name,
                     "method": op.method or "POST", "url_template": op.url_template or "/"})
                if op.policy is not None:
                    add("azurerm_api_management_api_operation_policy", f"{api.name}_{op.name}",
                        {**s, "api_name": api.name, "operation_id": op.name, "xml_content": op.policy.text})
        for product in svc.products:
            add("azurerm_api_management_product", product.name,
                {**s, "product_id": product.name, "display_name": product.display_name,
                 "subscription_required": product.subscription_required})
            for api_name in product.apis:
                add("azurerm_api_management_product_api", f"{product.name}_{api_name}",
                    {**s, "product_id": product.name, "api_name": api_name})
            if product.policy is not None:
                add("azurerm_api_management_product_policy", product.name,
                    {**s, "product_id": product.name, "xml_content": product.policy.text})
    return {"format_version": "1.2", "terraform_version": "1.9.0", "values": {"root_module": {"resources": resources}}}


def as_plan(state: dict[str, Any]) -> dict[str, Any]:
    """The same resources as a `terraform show -json plan.out` document (planned_values and resource_changes),
    the shape plan scanners such as Checkov read."""
    def walk(module: dict[str, Any]):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    values = state["values"]
    changes = [{"address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"],
                "provider_name": r.get("provider_name", "registry.terraform.io/hashicorp/azurerm"),
                "change": {"actions": ["create"], "before": None, "after": r.get("values", {}), "after_unknown": {}}}
               for r in walk(values["root_module"])]
    return {"format_version": state.get("format_version", "1.2"), "terraform_version": state.get("terraform_version"),
            "planned_values": values, "resource_changes": changes, "configuration": {"root_module": {}}}


def main() -> None:
    """`python3 benchmarks/estate_writers.py arm|terraform PATH OUT.json`"""
    from aoai_audit.sources.detect import load_paths

    kind, path, out = sys.argv[1:4]
    estate = load_paths([path])
    doc = to_arm(estate) if kind == "arm" else to_terraform(estate)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
