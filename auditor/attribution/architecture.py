"""Name the estate's attribution architecture, by the names practitioners compare, with what it implies for
chargeback in one or two sentences. Pure: read from the deployment paths and the gateway units."""

from __future__ import annotations

from .model import BY_RESOURCE, METERED, NO_OWNER, SHARED, Architecture, DeploymentPath, Gateway

SHARED_NO_METRIC = "shared APIM without a token metric"
SHARED_METRIC = "shared APIM with a token metric"
PER_TEAM_APIM_SHARED = "per-team APIM over a shared account"
PER_TEAM_APIM_ACCOUNTS = "per-team APIM and accounts"
PER_TEAM_DEPLOYMENTS = "per-team deployments"
PER_TEAM_ACCOUNTS = "per-team accounts (tags) without a gateway"
FOUNDRY_PROJECTS = "Foundry projects"
WORKSPACES = "APIM workspaces"
UNOWNED = "accounts with no owner and no gateway"
NOTHING = "no LLM spend found"
MIXED = "mixed"

IMPLIES = {
    SHARED_NO_METRIC: "every call passes one shared gateway but nothing meters it per consumer, so the spend "
                      "passes the gateway unmetered and goes to no team until a token metric with a consumer "
                      "dimension is added.",
    SHARED_METRIC: "one shared gateway meters tokens per consumer, so chargeback is as good as its consumer "
                   "dimension and as complete as the traffic that cannot go around the gateway.",
    PER_TEAM_APIM_SHARED: "each APIM instance is one team and the token metric's default Service ID tells them "
                          "apart, so the shared account's bill is split by each instance's metered tokens; an "
                          "instance without the metric cannot be told apart.",
    PER_TEAM_APIM_ACCOUNTS: "each team has its own gateway and account, so the bill splits by resource (owner tag "
                            "or cost-centre map) and gateway metering is optional for chargeback.",
    PER_TEAM_DEPLOYMENTS: "teams share an account but own deployments, so each deployment's spend (platform "
                          "metrics per deployment, priced per model) is its team's.",
    PER_TEAM_ACCOUNTS: "each team calls its own account directly, so Cost Management splits the bill by the "
                       "account's owner tag; nothing is metered per caller, and keys let anyone who holds one "
                       "spend on that team's account.",
    FOUNDRY_PROJECTS: "projects group work inside one AIServices account but are billed as the account, so "
                      "projects on a shared deployment cannot be told apart and their spend goes to no team unless "
                      "each has its own deployment or a meter.",
    WORKSPACES: "each APIM workspace is one team's slice of a shared service; the workspace's APIs (API ID) tell "
                "the teams apart in the token metric, so every workspace needs the metric for its share of the "
                "shared account.",
    UNOWNED: "the accounts have no owner tag, no cost-centre map entry and no gateway, so their whole spend goes "
             "to no team.",
    NOTHING: "the estate holds no LLM API and no AI account, so there is no spend to attribute.",
}
ORDER = (SHARED_NO_METRIC, SHARED_METRIC, PER_TEAM_APIM_SHARED, WORKSPACES, PER_TEAM_APIM_ACCOUNTS,
         PER_TEAM_DEPLOYMENTS, PER_TEAM_ACCOUNTS, FOUNDRY_PROJECTS, UNOWNED)


def _kind(d: DeploymentPath) -> str | None:
    shared_gw = [g for g in d.gateways if g.owner is None]
    team_gw = [g for g in d.gateways if g.owner is not None]
    if d.path == METERED:
        return SHARED_METRIC
    if d.path == SHARED and shared_gw:  # partly metered is a shared gateway with a metric (and TM001 gaps)
        return SHARED_METRIC if any(g.consumer for g in shared_gw) else SHARED_NO_METRIC
    if d.via == "deployment":
        return PER_TEAM_DEPLOYMENTS
    if team_gw:
        if len({g.owner.team.lower() for g in team_gw if g.owner}) > 1:
            return WORKSPACES if any(g.workspace for g in team_gw) else PER_TEAM_APIM_SHARED
        return WORKSPACES if any(g.workspace for g in team_gw) else PER_TEAM_APIM_ACCOUNTS
    if len(d.projects) >= 2 and d.path in (SHARED, BY_RESOURCE):
        return FOUNDRY_PROJECTS
    if d.path == BY_RESOURCE:
        return PER_TEAM_ACCOUNTS
    if d.path == NO_OWNER:
        return UNOWNED
    return None


def _gateway_kind(g: Gateway) -> str:
    if g.owner is None:
        return SHARED_METRIC if g.consumer else SHARED_NO_METRIC
    return WORKSPACES if g.workspace else PER_TEAM_APIM_SHARED


def name_architecture(deployments: tuple[DeploymentPath, ...], gateways: tuple[Gateway, ...]) -> Architecture:
    kinds = {k for k in (_kind(d) for d in deployments) if k}
    seen = {a for d in deployments for g in d.gateways for a in g.apis}
    # gateway traffic to accounts the estate does not hold still names how it is attributed
    kinds |= {_gateway_kind(g) for g in gateways if not set(g.apis) & seen}
    if len(kinds) > 1:
        kinds.discard(UNOWNED)  # an unowned account beside a named architecture is a gap (OW001), not a kind
    ordered = tuple(k for k in ORDER if k in kinds)
    if not ordered:
        return Architecture(NOTHING, IMPLIES[NOTHING])
    if len(ordered) == 1:
        return Architecture(ordered[0], IMPLIES[ordered[0]], ordered)
    return Architecture(MIXED, "the estate combines " + ", ".join(ordered) + "; each deployment's spend is judged "
                        "on its own path, and the money is reported per path.", ordered)
