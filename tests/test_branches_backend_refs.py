"""Which account a backend reference reaches when names repeat across subscriptions (issue 29).

Account names are unique only within a resource group; the resource id is what tells two accounts of the same
name apart (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules). The
expected accounts are written here, never read back from the resolver.
"""

from __future__ import annotations

import pytest

from aoai_audit.estate import AiAccount, ApimService, Backend
from aoai_audit.resolve.backends import _account_for, _backend_accounts

PROD = "/subscriptions/prod/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai"
DEV = "/subscriptions/dev/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai"
# the same account name in two subscriptions; the first listed is the one a by-name lookup would find
ACCOUNTS = (AiAccount(PROD, "aoai", "OpenAI"), AiAccount(DEV, "aoai", "OpenAI"))


@pytest.mark.parametrize("ref", [
    DEV,
    DEV.upper() + "/",                          # any case, a trailing slash
    "https://management.azure.com" + DEV,       # an ARM URL of the account
])
def test_the_resource_id_picks_the_account_of_that_subscription_not_the_first_of_its_name(ref):
    assert _account_for(ref, ACCOUNTS) is ACCOUNTS[1]


def test_an_id_the_estate_does_not_hold_falls_back_to_the_account_of_that_name():
    elsewhere = "/subscriptions/test/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai"
    assert _account_for(elsewhere, ACCOUNTS) is ACCOUNTS[0]


def test_a_pool_reaches_each_same_named_account_by_its_own_id():
    service = ApimService("apim", backends=(
        Backend("pool", backend_type="pool", pool_members=("prod", "/backends/dev/")),
        Backend("prod", resource_id=PROD),
        Backend("dev", resource_id=DEV),
    ))
    assert _backend_accounts(service, "pool", ACCOUNTS) == {PROD.lower(), DEV.lower()}
    assert _backend_accounts(service, "dev", ACCOUNTS) == {DEV.lower()}
