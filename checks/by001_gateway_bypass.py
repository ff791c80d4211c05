"""BY001: the LLM account can be called with a key from anywhere, around the gateway."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_ACCOUNTS
from aoai_audit.findings import Severity
from aoai_audit.resolve.classify import hostname
from aoai_audit.rules import LOSS_UNMETERED, RISK_SERVED, Rule, Stake

from . import _refs
from ._support import at, named

RULE = Rule(
    id="BY001",
    title="Azure OpenAI account can be called around the gateway",
    severity=Severity.HIGH,
    stake=Stake(LOSS_UNMETERED, RISK_SERVED),
    rationale=(
        "Attribution happens at the gateway. An account that accepts its API keys over the public network can "
        "be called directly by anyone holding a key: those tokens are billed to the account and attributed to "
        "no one, however good the gateway policies are. Where no gateway is in front (teams call their own "
        "accounts), there is nothing to go around: the finding then says what is really at risk, keys that let "
        "anyone holding one spend on the account from anywhere, and is not an attribution gap."
    ),
    detection=(
        "An Azure OpenAI / AI Services account with local (key) authentication enabled (`disableLocalAuth` not "
        "true; the default) and public network access not disabled and not restricted by a network rule with "
        "default action Deny."
    ),
    fix="Disable key authentication (the gateway uses its managed identity) and close public network access.",
    fix_snippet="""\"properties\": {
  \"disableLocalAuth\": true,
  \"publicNetworkAccess\": \"Disabled\",
  \"networkAcls\": { \"defaultAction\": \"Deny\" }
}""",
    references=(_refs.AOAI_DISABLE_LOCAL_AUTH, _refs.AOAI_NETWORK),
    requires=frozenset({CARRIES_ACCOUNTS}),
)


def _hosts(ctx: AuditContext) -> set[str]:
    """Hosts the gateway calls. URLs may hold placeholders (`https://{name}.openai.azure.com`) or be
    unreadable (`[...]`): `hostname` never raises on them."""
    urls = [b.url for s in ctx.estate.services for b in s.backends] + [v.api.service_url for v in ctx.llm_apis]
    return {h for h in (hostname(u) for u in urls if u) if h}


def _named_hosts(ctx: AuditContext, gateway_hosts: set[str]) -> set[str]:
    """First labels of the gateway hosts no account's endpoint claims: such a host names its account by its
    subdomain (`<name>.openai.azure.com`), as the backend resolver reads it (auditor/resolve/backends.py). A label,
    not a substring: `aoai-eastus.openai.azure.com` does not name an account `eastus`, and a host that is another
    account's endpoint does not name a same-named account elsewhere."""
    claimed = {hostname(a.endpoint) for a in ctx.estate.accounts if a.endpoint}
    return {h.split(".", 1)[0] for h in gateway_hosts - claimed}


def check(ctx: AuditContext):
    gateway_hosts = _hosts(ctx)
    named_hosts = _named_hosts(ctx, gateway_hosts)
    for account in ctx.estate.accounts:
        if account.disable_local_auth is True:
            continue
        if (account.public_network_access or "").lower() == "disabled":
            continue
        if (account.network_default_action or "").lower() == "deny":
            continue
        host = hostname(account.endpoint)
        paths = ctx.attribution.of_account(account.resource_id or account.name)
        gateway = any(d.gateways for d in paths)
        behind = gateway or bool(host and host in gateway_hosts) or account.name.lower() in named_hosts
        state = (f"disableLocalAuth {'unset' if account.disable_local_auth is None else 'false'}, public network "
                 f"access {account.public_network_access or 'default (enabled)'}")
        who = named("account", account.name, account.origin, "Azure OpenAI")
        if behind:
            message = (f"{who} behind the gateway accepts API keys from the public "
                       f"network ({state}); calls made directly pass no gateway and are attributed to no one")
        else:
            # no gateway to go around: what is at risk is the keys, not the attribution (the attribution model
            # says how this account's spend reaches a team)
            how = "; ".join(sorted({f"{d.path}" + (f" ({d.owner.how})" if d.owner else "") for d in paths}))
            message = (f"{who} has no gateway in front and accepts API keys from the "
                       f"public network ({state}): anyone holding a key can spend on it from anywhere. This is not an "
                       f"attribution gap (its spend: {how or 'no path known'}); it is spend no one approved")
        yield RULE.finding(account.resource_id, message, location=at(account.origin, account.resource_id))
