"""Tags, deployment capacity and Foundry projects from an ARM template (as `az bicep build` writes it)."""

from __future__ import annotations

import json

from aoai_audit.sources.detect import load_paths

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"team": {"type": "string", "defaultValue": "research"}},
    "resources": [
        {"type": "Microsoft.ApiManagement/service", "apiVersion": "2024-05-01", "name": "apim-research",
         "location": "eastus", "tags": {"team": "[parameters('team')]"},
         "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "x"}},
        {"type": "Microsoft.CognitiveServices/accounts", "apiVersion": "2025-06-01", "name": "foundry",
         "location": "eastus", "kind": "AIServices", "tags": {"CostCenter": "CC-7"}, "sku": {"name": "S0"},
         "properties": {"allowProjectManagement": True}},
        {"type": "Microsoft.CognitiveServices/accounts/deployments", "apiVersion": "2025-06-01",
         "name": "foundry/gpt-4o-ptu", "tags": {"team": "legal"},
         "sku": {"name": "ProvisionedManaged", "capacity": 50},
         "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
         "dependsOn": ["[resourceId('Microsoft.CognitiveServices/accounts', 'foundry')]"]},
        {"type": "Microsoft.CognitiveServices/accounts/projects", "apiVersion": "2025-06-01",
         "name": "foundry/research", "location": "eastus", "tags": {"team": "[parameters('team')]"},
         "identity": {"type": "SystemAssigned"}, "properties": {"displayName": "research"},
         "dependsOn": ["[resourceId('Microsoft.CognitiveServices/accounts', 'foundry')]"]},
    ],
}


def test_arm_tags_capacity_and_projects(tmp_path):
    path = tmp_path / "main.json"
    path.write_text(json.dumps(TEMPLATE))
    estate = load_paths([str(path)])
    assert not estate.gaps, estate.gaps
    (svc,) = estate.services
    assert svc.tags == (("team", "research"),)  # the expression is evaluated, as every other value is
    (account,) = estate.accounts
    assert account.tags == (("CostCenter", "CC-7"),)
    (dep,) = account.deployments
    assert (dep.sku, dep.capacity, dep.tags) == ("ProvisionedManaged", 50, (("team", "legal"),))
    (project,) = account.projects
    assert (project.name, project.tags) == ("research", (("team", "research"),))
    assert project.resource_id.endswith("/providers/Microsoft.CognitiveServices/accounts/foundry/projects/research")


def _res(address, rtype, name, values):
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_name":
            "registry.terraform.io/hashicorp/azurerm", "schema_version": 0, "values": values}


PLAN = {
    "format_version": "1.2", "terraform_version": "1.9.0",
    "planned_values": {"root_module": {"resources": [
        _res("azurerm_api_management.team", "azurerm_api_management", "team",
             {"name": "apim-legal", "location": "eastus", "tags": {"team": "legal"}}),
        _res("azurerm_cognitive_account.foundry", "azurerm_cognitive_account", "foundry",
             {"name": "foundry", "kind": "AIServices", "location": "eastus", "tags": {"CostCenter": "CC-9"}}),
        _res("azurerm_cognitive_deployment.ptu", "azurerm_cognitive_deployment", "ptu",
             {"name": "gpt-4o-ptu", "model": [{"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}],
              "sku": [{"name": "GlobalProvisionedManaged", "capacity": 15}]}),
        _res("azurerm_cognitive_account_project.research", "azurerm_cognitive_account_project", "research",
             {"name": "research", "location": "eastus", "tags": {"team": "research"}}),
        {**_res("azapi_resource.legal", "azapi_resource", "legal",
                {"name": "legal", "type": "Microsoft.CognitiveServices/accounts/projects@2025-06-01",
                 "tags": {"team": "legal"}, "body": {"properties": {"displayName": "legal"}}}),
         "provider_name": "registry.terraform.io/azure/azapi"},
    ]}},
    "configuration": {"root_module": {"resources": [
        {"address": "azurerm_cognitive_deployment.ptu", "type": "azurerm_cognitive_deployment", "name": "ptu",
         "expressions": {"cognitive_account_id": {"references": ["azurerm_cognitive_account.foundry.id",
                                                                 "azurerm_cognitive_account.foundry"]}}},
        {"address": "azurerm_cognitive_account_project.research", "type": "azurerm_cognitive_account_project",
         "name": "research", "expressions": {"cognitive_account_id": {"references": [
             "azurerm_cognitive_account.foundry.id", "azurerm_cognitive_account.foundry"]}}},
        {"address": "azapi_resource.legal", "type": "azapi_resource", "name": "legal",
         "expressions": {"parent_id": {"references": ["azurerm_cognitive_account.foundry.id",
                                                      "azurerm_cognitive_account.foundry"]}}},
    ]}},
}


def test_terraform_tags_capacity_and_projects(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    estate = load_paths([str(path)])
    assert not estate.gaps, estate.gaps
    (svc,) = estate.services
    assert svc.tags == (("team", "legal"),)
    (account,) = estate.accounts
    assert account.tags == (("CostCenter", "CC-9"),)
    (dep,) = account.deployments
    assert (dep.sku, dep.capacity) == ("GlobalProvisionedManaged", 15)
    assert [(p.name, p.tags) for p in account.projects] == [("research", (("team", "research"),)),
                                                            ("legal", (("team", "legal"),))]
