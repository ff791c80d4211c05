"""Usage rows against the estate by name: the services, APIs and accounts they name that the estate does not have.

A usage row is matched to the estate by its service and API names (and its account): a row that names something
the estate lacks is priced without its backend and reaches no API, so the report must say so (a warning in every
format), never let the money move silently. One case is settled rather than warned about: an APIOps folder whose
service name came only from the folder's own name (no extractor configuration, no --service-name) takes the one
service name the gateway usage gives (the same or another), when the usage's API names are that folder's APIs. The usage's service
name was written by `aoai-audit kql` or read live from the service itself, so it outranks a folder that was copied
or renamed (issue 26: the same estate under another folder name must give the same money and fingerprints).
"""

from __future__ import annotations

from dataclasses import replace

from ..estate import Estate
from ..estate_identity import FOLDER_NAMED
from .model import GATEWAY


def _shown(names: set[str], limit: int = 5) -> str:
    ordered = sorted(names)
    return ", ".join(f"'{n}'" for n in ordered[:limit]) + (f" and {len(ordered) - limit} more" if len(ordered) > limit
                                                             else "")


def adopt_usage_service_name(estate: Estate) -> tuple[Estate, str | None]:
    """The estate with its folder-named service renamed to the service the usage names, and a note saying so; the
    estate unchanged (and None) unless exactly one service is folder-named, the gateway usage names exactly one
    service the estate lacks, and every API that usage names is one of the folder's APIs."""
    if estate.usage is None:
        return estate, None
    named = {r.service for r in estate.usage.rows if r.source == GATEWAY and r.service}
    # an APIOps folder, or a snapshot of one (sources/snapshot.py keeps the kind as "snapshot of apiops")
    folder_sources = [s for s in estate.sources if s.kind in ("apiops", "snapshot of apiops")
                      and (s.detail or "").startswith(FOLDER_NAMED)]
    if len(named) != 1 or len(folder_sources) != 1 or len(estate.services) != 1:
        return estate, None
    (usage_name,) = named
    service = estate.services[0]
    apis = {r.api.lower() for r in estate.usage.rows if r.source == GATEWAY and r.service == usage_name and r.api}
    if not apis or not apis <= {a.name.lower() for a in service.apis}:
        return estate, None
    # the usage names the service (the same name or another): the folder's name decides nothing, so the estate's
    # identity is the service name, not the folder's place (estate_identity.py)
    note = (f"service name '{usage_name}' taken from the usage files, which name it and its APIs; the APIOps folder "
            f"is called '{service.name}' (set --service-name or apimServiceName in configuration.extractor.yaml to "
            "name it yourself)")
    sources = tuple(replace(s, detail=note) if s is folder_sources[0] else s for s in estate.sources)
    return replace(estate, services=(replace(service, name=usage_name),), sources=sources), note


def unmatched_names(estate: Estate, reached_accounts: frozenset[str] = frozenset()) -> list[str]:
    """One warning per kind of name the usage rows give and the estate does not have: services, APIs (of the
    services it has), accounts (neither in the estate nor reached by an API's backend, `reached_accounts`, lower)."""
    if estate.usage is None:
        return []
    services = {s.name.lower(): s for s in estate.services}
    bad_services: set[str] = set()
    bad_apis: set[str] = set()
    bad_accounts: set[str] = set()
    accounts = {a.name.lower() for a in estate.accounts} | {a.resource_id.lower() for a in estate.accounts} | {
        r.rsplit("/", 1)[-1] for r in reached_accounts} | set(reached_accounts)
    for row in estate.usage.rows:
        if row.source == GATEWAY and row.service:
            service = services.get(row.service.lower())
            if service is None and estate.services:
                bad_services.add(row.service)
            elif service is not None and row.api and row.api.lower() not in {a.name.lower() for a in service.apis}:
                bad_apis.add(f"{row.service}/{row.api}")
        elif row.source == GATEWAY and row.api and estate.services:
            if not any(row.api.lower() == a.name.lower() for s in estate.services for a in s.apis):
                bad_apis.add(row.api)
        if row.account and row.account.lower() not in accounts:
            bad_accounts.add(row.account)
    have = ", ".join(sorted(services)) or "none"
    out = []
    if bad_services:
        out.append(f"usage rows name APIM service(s) {_shown(bad_services)} that the estate does not have (it has "
                   f"{have}): their tokens reach no API of the estate, so they are priced without their backend and "
                   "no finding counts them; audit the estate those rows came from, or set --service-name")
    if bad_apis:
        out.append(f"usage rows name API(s) {_shown(bad_apis)} that the estate does not have: their tokens are "
                   "priced without their backend and no finding counts them")
    if bad_accounts and (estate.accounts or reached_accounts):
        out.append(f"usage rows name account(s) {_shown(bad_accounts)} that the estate neither holds nor reaches "
                   "through an API's backend: their tokens cannot be put on a path (no owner)")
    return out
