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
