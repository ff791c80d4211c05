"""ARM scope functions: resourceGroup(), subscription(), tenant() as far as a template knows them.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-scope
"""

from __future__ import annotations

from ..values import (
    RESOURCE_GROUP_T,
    SUBSCRIPTION_T,
    Unknown,
)
from .common import Lazy, scope_object

LAZY: dict[str, Lazy] = {
    "resourcegroup": scope_object("resourceGroup()", {
        "id": RESOURCE_GROUP_T, "name": Unknown("resourceGroup"), "location": Unknown("location")}),
    "subscription": scope_object("subscription()", {
        "id": SUBSCRIPTION_T, "subscriptionId": Unknown("subscription"), "tenantId": Unknown("tenant")}),
    "tenant": scope_object("tenant()", {"tenantId": Unknown("tenant")}),
}
