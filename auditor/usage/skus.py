"""Deployment SKUs and how each is billed: per token, per token at batch rates, or per provisioned PTU-hour.

The SKU names are the ARM `sku.name` of a deployment ("SKU name in code" on Microsoft's deployment-types page,
https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/deployment-types): GlobalStandard,
DataZoneStandard, Standard, GlobalBatch, DataZoneBatch, GlobalProvisionedManaged, DataZoneProvisionedManaged,
ProvisionedManaged, DeveloperTier. Batch is billed per token at its own rates, about half of global standard
(https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch); provisioned deployments are billed
per deployed PTU per hour whether used or not
(https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKENS, BATCH, PROVISIONED = "tokens", "batch", "provisioned"


@dataclass(frozen=True, slots=True)
class SkuClass:
    billing: str  # tokens, batch or provisioned
    scope: str  # global, datazone, regional or developer: where it is processed, which prices it takes
    price_type: str  # the price table's deployment type for its token rows ("" for provisioned: PTU-hours)


SKUS = {
    "globalstandard": SkuClass(TOKENS, "global", "global"),
    "datazonestandard": SkuClass(TOKENS, "datazone", "datazone"),
    "standard": SkuClass(TOKENS, "regional", "regional"),
    "developertier": SkuClass(TOKENS, "developer", "developer"),
    "globalbatch": SkuClass(BATCH, "global", "batch"),
    "datazonebatch": SkuClass(BATCH, "datazone", "datazone-batch"),
    "globalprovisionedmanaged": SkuClass(PROVISIONED, "global", ""),
    "datazoneprovisionedmanaged": SkuClass(PROVISIONED, "datazone", ""),
    "provisionedmanaged": SkuClass(PROVISIONED, "regional", ""),
}


def _norm(sku: str) -> str:
    return re.sub(r"[\s_-]", "", (sku or "").lower())


def classify_sku(sku: str) -> SkuClass | None:
    """How a deployment SKU is billed; None for a SKU this build does not know (never guessed)."""
    return SKUS.get(_norm(sku))


def is_batch(sku: str) -> bool:
    """A batch deployment: its tokens are priced at batch rates and never enter the mix that prices live calls."""
    found = classify_sku(sku)
    return found is not None and found.billing == BATCH


def is_provisioned(sku: str) -> bool:
    found = classify_sku(sku)
    return found is not None and found.billing == PROVISIONED
