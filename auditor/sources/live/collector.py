"""Live Azure as a source: read-only collection with the real Azure SDK clients.

Only reads: list and get calls, `format=rawxml` policies, named values without their values (never
`listValue`), diagnostic settings, role assignments. Every call that fails (401, 403, 404 where a resource
was expected, throttled past the SDK's retries, timeout, malformed body) becomes a CollectionGap naming
the resource and the permission that would fix it, so the audit fails closed and goes on. This module runs
the subscriptions (threads, or processes for many); `apim`, `accounts` and `monitor` read each one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from ...estate import (
    ALL_KINDS,
    CARRIES_READER,
    CARRIES_USAGE,
    AiAccount,
    ApimService,
    DiagnosticSetting,
    Estate,
    RoleAssignment,
    RoleDefinition,
    SourceInfo,
)
from .accounts import accounts_from, list_accounts
from .apim import list_services, read_service
from .http import RequestCounter, describe
from .monitor import diagnostic_settings, role_assignments
from .options import LiveOptions, worker_processes
from .session import LiveSession

if TYPE_CHECKING:
    from ...usage.phase import LiveUsage, UsageScope

# one subscription's services, accounts, diagnostic settings, role assignments, role definitions by GUID
SubscriptionPart = tuple[list[ApimService], list[AiAccount], list[DiagnosticSetting], list[RoleAssignment],
                         dict[str, RoleDefinition]]



class LiveCollector(LiveSession):
    def collect(self) -> Estate:
        definitions: dict[str, RoleDefinition] = {}
        reader = self.options.reader_principal or self._whoami()
        subscriptions = list(self.options.subscriptions)
        if self.options.all_subscriptions:
            subscriptions += [s for s in self._all_subscriptions(self.client_kwargs()) if s not in subscriptions]
        jobs = worker_processes(self.options, len(subscriptions))
        if jobs > 1 and not _picklable(self.options.client_kwargs):
            self.note("client options that cannot be sent to another process: reading in this one")
            jobs = 1
        if jobs > 1:
            parts = self._in_processes(subscriptions, reader, jobs)
        else:
            parts = self.read_subscriptions(subscriptions, reader)
        services, accounts, settings, assignments = [], [], [], []
        for part in parts:  # merged in the order given: output is stable
            services += part[0]
            accounts += part[1]
            settings += part[2]
            assignments += part[3]
            for guid, role in part[4].items():
                definitions.setdefault(guid, role)
        source = SourceInfo("live", ", ".join(f"/subscriptions/{s}" for s in subscriptions) or "no subscription",
                            ALL_KINDS - {CARRIES_USAGE, CARRIES_READER}, identity=reader)
        estate = Estate((source,), tuple(services), tuple(accounts), tuple(settings), tuple(assignments),
                        tuple(definitions.values()), reader, (), "")
        return replace(estate, gaps=tuple(self.gaps))

    def _in_processes(self, subscriptions: list[str], reader: str | None, jobs: int) -> list[SubscriptionPart]:
        """Slices of the subscriptions, each read by a process of its own (its own SDK clients, connection pool
        and pacers; the slices share no subscription, so no read budget is shared). One process reads a few
        hundred requests a second at most (the SDK pipeline costs milliseconds of CPU per read), and ARM allows
        25 a second per subscription: a tenant of many subscriptions needs more than one core to keep pace."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        slices = [subscriptions[i::jobs] for i in range(jobs)]  # round robin: large and small ones spread
        worker = replace(self.options, subscriptions=(), all_subscriptions=False, progress=None, tracker=None,
                         jobs=1, reader_principal=reader,
                         max_in_flight=max(1, self.options.max_in_flight // jobs))
        self.note(f"reading {len(subscriptions)} subscription(s) in {jobs} processes")
        by_sub: dict[str, SubscriptionPart] = {}
        # spawn, not fork: a forked child would inherit the parent's threads' locks (progress bar, SDK)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [(part, pool.submit(_read_slice, replace(worker, subscriptions=tuple(part)), reader))
                       for part in slices]
            for part, future in futures:
                try:
                    parts, gaps, statuses, throttle_wait, paced = future.result()
                except Exception as exc:  # the process died or its result could not come back: fail closed
                    for sub in part:
                        self.gap(f"/subscriptions/{sub}", f"could not read subscription {sub}", exc,
                                 "a run that reads it (again, or with --jobs 1 in one process)")
                    continue
                with self._lock:
                    self.gaps.extend(gaps)
                with self.counter.lock:
                    self.counter.statuses.update(statuses)
                    self.counter.throttle_wait += throttle_wait
                self.pacer.add_waited(paced)
                by_sub.update(zip(part, parts, strict=True))
                found = sum(len(p[0]) for p in parts)
                self.note(f"subscription(s) {', '.join(part)}: {found} API Management service(s)")
                if self.options.tracker is not None:
                    self.options.tracker.add(found)
                    for p in parts:
                        for svc in p[0]:
                            self.options.tracker.advance(f"{svc.name}: {len(svc.apis)} API(s)")
        return [by_sub.get(sub, ([], [], [], [], {})) for sub in subscriptions]

    def read_subscriptions(self, subscriptions: list[str], reader: str | None) -> list[SubscriptionPart]:
        """Every subscription's services, accounts, settings, role assignments and role definitions, in the
        order given; subscriptions run side by side on threads, each under its own read budget."""
        from azure.mgmt.apimanagement import ApiManagementClient
        from azure.mgmt.authorization import AuthorizationManagementClient
        from azure.mgmt.monitor import MonitorManagementClient

        kw = self.client_kwargs()
        discovered = self._discover(kw, subscriptions)

        def one_subscription(sub: str):
            """Everything of one subscription; subscriptions run side by side, each under its own read budget."""
            services: list[ApimService] = []
            accounts: list[AiAccount] = []
            settings: list[DiagnosticSetting] = []
            assignments: list[RoleAssignment] = []
            roles: dict[str, RoleDefinition] = {}  # per subscription, merged in order below: a stable output
            apim = ApiManagementClient(self.credential, sub, **kw)
            monitor = MonitorManagementClient(self.credential, sub, **kw)
            auth = AuthorizationManagementClient(self.credential, sub, **kw)
            mine = discovered.get(sub.lower(), {}) if discovered is not None else None
            if mine is not None:
                found = [SimpleNamespace(id=r.get("id", ""), name=r.get("name", ""), location=r.get("location", ""),
                                         tags=r.get("tags"))
                         for r in mine.get("microsoft.apimanagement/service", [])]
                found = [s for s in found if not self.options.apim or s.name == self.options.apim]
            else:
                found = list_services(self, apim, sub)
            self.note(f"subscription {sub}: {len(found)} API Management service(s)")
            if self.options.tracker is not None:
                self.options.tracker.add(len(found))
            with ThreadPoolExecutor(max_workers=self.options.max_workers) as pool:
                services += list(pool.map(lambda svc, c=apim: read_service(self, c, svc), found))
            if mine is not None:
                accounts += accounts_from(self, apim, mine.get("microsoft.cognitiveservices/accounts", []))
            else:
                accounts += list_accounts(self, apim, sub)
            targets = [s.resource_id for s in services if s.resource_id.startswith(f"/subscriptions/{sub}")]
            targets += [a.resource_id for a in accounts if a.resource_id.startswith(f"/subscriptions/{sub}")]
            with ThreadPoolExecutor(max_workers=self.options.max_workers) as pool:
                for part in pool.map(lambda rid, c=monitor: diagnostic_settings(self, c, rid), targets):
                    settings += part
            if reader:
                assignments += role_assignments(self, auth, sub, reader, roles)
            return services, accounts, settings, assignments, roles

        width = max(1, min(self.options.max_subscriptions, len(subscriptions)))
        with ThreadPoolExecutor(max_workers=width) as pool:
            return list(pool.map(one_subscription, subscriptions))

    def usage_reader(self, window: tuple[dt.date, dt.date], logs_endpoint: str | None = None) -> LiveUsage:
        """The window's usage, read with this run's credential, pacing and request count once the pipeline has
        resolved which APIs to query (auditor/usage/live.py); what it cannot read joins the estate's gaps."""
        from ...usage.live import LOGS_ENDPOINTS, read_usage

        endpoint = logs_endpoint or LOGS_ENDPOINTS.get(self.options.cloud, LOGS_ENDPOINTS["AzureCloud"])

        def read(estate: Estate, scope: UsageScope) -> Estate:
            before = len(self.gaps)
            usage = read_usage(self, estate, scope, window[0], window[1], endpoint)
            return replace(estate, usage=usage, gaps=estate.gaps + tuple(self.gaps[before:]))

        return read

    def _discover(self, kw: dict[str, Any], subscriptions: list[str]) -> dict[str, dict[str, list[dict]]] | None:
        """One Resource Graph query for every subscription's services and accounts; None: use ARM list calls."""
        from azure.mgmt.resourcegraph import ResourceGraphClient
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        if not subscriptions:
            return {}
        query = ("resources\n| where type in~ ('microsoft.apimanagement/service', "
                 "'microsoft.cognitiveservices/accounts', 'microsoft.operationalinsights/workspaces')")
        if self.options.resource_group:
            query += f"\n| where resourceGroup =~ '{self.options.resource_group.replace(chr(39), '')}'"
        # tags: the owner of a per-team resource (https://learn.microsoft.com/en-us/azure/governance/resource-graph/
        # concepts/query-language: `resources` rows carry `tags`)
        query += "\n| project id, name, type, kind, location, resourceGroup, subscriptionId, sku, tags, properties"
        client = ResourceGraphClient(self.credential, **kw)
        rows: list[dict[str, Any]] = []
        skip: str | None = None
        try:
            for _page in range(1000):
                response = client.resources(QueryRequest(
                    subscriptions=subscriptions, query=query,
                    options=QueryRequestOptions(skip_token=skip, result_format="objectArray")))
                if not isinstance(response.data, list):
                    raise ValueError("malformed Resource Graph response")
                rows += [r for r in response.data if isinstance(r, dict)]
                skip = response.skip_token
                if not skip:
                    break
        except Exception as exc:
            self.note(f"Resource Graph not usable ({describe(exc)}); listing with Resource Manager calls instead")
            return None
        out: dict[str, dict[str, list[dict]]] = {s.lower(): {} for s in subscriptions}
        group = self.options.resource_group
        for row in rows:
            if group and str(row.get("resourceGroup", "")).lower() != group.lower():
                continue
            sub = str(row.get("subscriptionId", "")).lower()
            out.setdefault(sub, {}).setdefault(str(row.get("type", "")).lower(), []).append(row)
        self.note(f"Resource Graph: {len(rows)} resource(s) in {len(subscriptions)} subscription(s)")
        return out

    def _all_subscriptions(self, kw: dict[str, Any]) -> list[str]:
        from azure.mgmt.apimanagement import ApiManagementClient

        client = ApiManagementClient(self.credential, "-", **kw)  # any ARM client can list subscriptions
        raw: list[dict[str, Any]] = self.read("/subscriptions", "a role on at least one subscription",
                        lambda: self.raw_list(client, "/subscriptions?api-version=2022-12-01"), [])
        subs = [str(s.get("subscriptionId")) for s in raw if s.get("subscriptionId") and s.get("state", "Enabled") == "Enabled"]
        self.note(f"{len(subs)} subscription(s) visible")
        return subs


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value)
        return True
    except Exception:  # pickle raises many kinds (PicklingError, TypeError, AttributeError)
        return False



def _read_slice(options: LiveOptions, reader: str | None):
    """In a worker process: read a slice of subscriptions; what comes back is plain data (pickled)."""
    collector = LiveCollector(options)
    try:
        parts = collector.read_subscriptions(list(options.subscriptions), reader)
    finally:
        collector.close()
    return parts, tuple(collector.gaps), collector.counter.statuses, collector.counter.throttle_wait, collector.pacer.waited



@contextlib.contextmanager
def live_session(options: LiveOptions, on_start: Callable[[RequestCounter], Any] | None = None,
                 ) -> Iterator[LiveCollector]:
    """A collector whose connections stay open for the usage read that follows the estate's (usage_reader)."""
    collector = LiveCollector(options)
    if on_start is not None:
        on_start(collector.counter)
    try:
        yield collector
    finally:
        collector.close()
        collector.counter.paced = collector.pacer.waited


def collect_live(options: LiveOptions, on_start: Callable[[RequestCounter], Any] | None = None,
                 ) -> tuple[Estate, RequestCounter]:
    """The estate alone (no usage: that is read by the usage phase, through a session's usage_reader)."""
    with live_session(options, on_start) as collector:
        estate = collector.collect()
    return estate, collector.counter
