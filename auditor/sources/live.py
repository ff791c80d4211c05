"""Live Azure as a source: read-only collection with the real Azure SDK clients.

Only reads: list and get calls, `format=rawxml` policies, named values without their values (never
`listValue`), diagnostic settings, role assignments. Every call that fails (401, 403, 404 where a resource
was expected, throttled past the SDK's retries, timeout, malformed body) becomes a CollectionGap naming
the resource and the permission that would fix it, so the audit fails closed and goes on.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ..estate import (
    ALL_KINDS,
    CARRIES_READER,
    CARRIES_USAGE,
    AiAccount,
    Api,
    ApimService,
    Backend,
    CollectionGap,
    Deployment,
    Diagnostic,
    DiagnosticSetting,
    Estate,
    Fragment,
    Logger,
    LogSetting,
    NamedValue,
    Operation,
    Product,
    RoleAssignment,
    RoleDefinition,
    SourceInfo,
    Workspace,
)
from ..policy.rawxml import read_policy
from ..policy.tree import Origin, Policy
from .apiops import diagnostic_from_props
from .pacing import SubscriptionPacers
from .transport import shared_transport

if TYPE_CHECKING:
    from ..usage.phase import LiveUsage, UsageScope

T = TypeVar("T")
# one subscription's services, accounts, diagnostic settings, role assignments, role definitions by GUID
SubscriptionPart = tuple[list[ApimService], list[AiAccount], list[DiagnosticSetting], list[RoleAssignment],
                         dict[str, RoleDefinition]]
log = logging.getLogger(__name__)
CLOUDS = {
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
APIM_READ = "API Management Service Reader (or Reader) on the service"
MONITOR_READ = "Reader or Monitoring Reader on the resource (Microsoft.Insights/diagnosticSettings/read)"
ROLES_READ = "Reader on the subscription (Microsoft.Authorization/roleAssignments/read)"
ACCOUNT_READ = "Reader on the Azure OpenAI account"
COGNITIVE_API = "2024-10-01"
# DiagnosticContractProperties.largeLanguageModel exists at 2024-06-01-preview (Azure/bicep-types-az,
# generated/apimanagement/microsoft.apimanagement/2024-06-01-preview/types.md); SDK 5.0.0 uses 2024-05-01
DIAGNOSTICS_LLM_API = "2024-06-01-preview"


@dataclass
class LiveOptions:
    subscriptions: tuple[str, ...] = ()
    all_subscriptions: bool = False
    resource_group: str | None = None
    apim: str | None = None
    tenant: str | None = None
    cloud: str = "AzureCloud"
    arm_endpoint: str | None = None
    reader_principal: str | None = None
    max_workers: int = 8
    max_subscriptions: int = 32  # subscriptions read side by side (each has its own ARM read budget)
    max_in_flight: int = 64  # requests in flight over the whole run, whatever the number of subscriptions
    credential: Any = None  # injected by tests or embedding code; default DefaultAzureCredential
    client_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. retry knobs, connection_verify
    progress: Callable[[str], None] | None = None
    tracker: Any = None  # progress bar: .add(n) services to read, .advance(label) one done
    pacing: bool = True  # wait for ARM's read budget (remaining-reads header) instead of running into 429s
    jobs: int | None = None  # processes that read slices of the subscriptions; None: one per core (worker_processes)


class RequestCounter:
    """A per-retry pipeline policy: counts every attempt, its status, and the waits ARM asked for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.throttle_wait = 0.0
        self.paced = 0.0  # seconds spent waiting for the read budget (set by the collector)

    def on_request(self, request: Any) -> None:
        pass

    def on_response(self, request: Any, response: Any) -> None:
        status = response.http_response.status_code
        with self.lock:
            self.statuses[status] += 1
            if status == 429:
                after = response.http_response.headers.get("Retry-After") or "0"
                with contextlib.suppress(ValueError):
                    self.throttle_wait += float(after)

    def on_exception(self, request: Any) -> None:
        with self.lock:
            self.statuses[0] += 1

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def short(self) -> str:
        return f"{self.total} requests, {self.statuses[429]} throttled"

    def summary(self) -> str:
        retries = self.statuses[429] + sum(v for k, v in self.statuses.items() if k >= 500 or k == 0)
        return (f"{self.total} request(s), {self.statuses[429]} throttled (429), {retries} retried or failed "
                f"attempt(s), {self.throttle_wait:.1f}s of Retry-After waits, {self.paced:.1f}s paced")


def _policy_counter_class():
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _Counting(SansIOHTTPPolicy):
        """Per retry: wait for ARM's read budget, count the attempt, learn what budget is left."""

        def __init__(self, counter: RequestCounter, pacer: SubscriptionPacers | None = None):
            self.counter = counter
            self.pacer = pacer

        def on_request(self, request):
            if self.pacer is not None:
                self.pacer.before_request(request.http_request.url)

        def on_response(self, request, response):
            self.counter.on_response(request, response)
            if self.pacer is not None:
                self.pacer.after_request(request.http_request.url, response.http_response.headers)

        def on_exception(self, request):
            self.counter.on_exception(request)
            if self.pacer is not None:
                self.pacer.after_request(request.http_request.url, None)

    return _Counting


MAX_PAGES = 10_000
_DEFAULT_PORTS = {"https": 443, "http": 80}


class ForeignLinkError(ValueError):
    """A link that leads away from the endpoint that issued it: not followed, so the bearer token stays home."""


def same_origin(link: str, issued_by: str) -> bool:
    """Scheme, host and port equal (the web origin, RFC 6454 §4); a relative link stays where it was issued.

    A next link is an absolute URL taken from the response body (TypeSpec Azure, "Paging operations": "Next
    link is an absolute url returned by the paging operation") and the SDK pagers send it through the client's
    pipeline with its bearer token: a response that names another host would hand that host the token."""
    try:
        target, origin = urlsplit(link), urlsplit(issued_by)
        if not target.scheme and not target.netloc:
            return not link.startswith("\\")  # a path on the same endpoint (a backslash is a host to some)
        return (target.scheme.lower(), (target.hostname or "").rstrip("."),
                target.port or _DEFAULT_PORTS.get(target.scheme.lower())) == (
            origin.scheme.lower(), (origin.hostname or "").rstrip("."),
            origin.port or _DEFAULT_PORTS.get(origin.scheme.lower()))
    except ValueError:  # a port that is not a number: not a link to follow
        return False


def check_link(link: str, issued_by: str) -> None:
    if not same_origin(link, issued_by):
        raise ForeignLinkError(f"a next link leads to another host than {_origin(issued_by)}; not followed, "
                               f"the token was not sent: {link[:300]}")


def _origin(url: str) -> str:
    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def _origin_guard_class():
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _SameOrigin(SansIOHTTPPolicy):
        """The last word before the transport (after the bearer token is set, after any redirect): a request
        for another host than the client's endpoint fails here, so the token never leaves."""

        def __init__(self, endpoint: str):
            self.endpoint = endpoint

        def on_request(self, request):
            check_link(request.http_request.url, self.endpoint)

    return _SameOrigin


def drain(paged: Iterable[T], origin: str | None = None) -> list[T]:
    """All items of an SDK pager; a nextLink that comes back (a loop), never ends, or leads to another host
    than `origin` is an error, not a hang or a leaked token."""
    by_page = getattr(paged, "by_page", None)
    if by_page is None:
        return list(paged)
    pages = by_page()
    seen: set[str] = set()
    items: list[T] = []
    for count, page in enumerate(pages):
        items.extend(page)
        token = getattr(pages, "continuation_token", None)
        if token is None:
            continue
        if origin is not None:
            check_link(str(token), origin)
        if token in seen:
            raise ValueError(f"the service returned the same nextLink twice (a paging loop) after {count + 1} page(s)")
        if count >= MAX_PAGES:
            raise ValueError(f"more than {MAX_PAGES} pages")
        seen.add(token)
    return items


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    code = getattr(getattr(exc, "error", None), "code", None)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if status:
        return f"{status}{' ' + code if code else ''}: {text[:200]}"
    return f"{type(exc).__name__}: {text[:200]}"


def _short(resource_id: str) -> str:
    """The readable tail of a resource id: service/x/apis/y/policies/policy rather than the whole path."""
    tail = resource_id.split("/providers/", 1)[-1] if "/providers/" in resource_id else resource_id
    parts = tail.split("/")
    return "/".join(parts[1:]) if len(parts) > 2 and "." in parts[0] else tail


def principal_from_token(token: str) -> str | None:
    """The object id (`oid`) of a JWT access token, without validating it (only to name the reader)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims.get("oid") or None
    except (IndexError, ValueError, AttributeError):
        return None


def worker_processes(options: LiveOptions, subscriptions: int) -> int:
    """Processes to read in: the option, else one per core the run may use, never more than subscriptions.
    One process when a credential object was handed in (it cannot cross into another process)."""
    if options.credential is not None or subscriptions < 2:
        return 1
    if options.jobs is not None:
        return max(1, min(options.jobs, subscriptions))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, subscriptions))


class LiveCollector:
    def __init__(self, options: LiveOptions):
        self.options = options
        self.gaps: list[CollectionGap] = []
        self.counter = RequestCounter()
        self.pacer = SubscriptionPacers(enabled=options.pacing, max_in_flight=options.max_in_flight)
        self._lock = threading.Lock()
        arm, authority = CLOUDS.get(options.cloud, CLOUDS["AzureCloud"])
        self.arm = (options.arm_endpoint or arm).rstrip("/")
        self.authority = authority
        self.credential = options.credential or self._default_credential()
        self._transport: Any = None

    # ------------------------------------------------------------------------------ plumbing

    def _default_credential(self):
        from azure.identity import DefaultAzureCredential

        kwargs: dict[str, Any] = {"authority": self.authority, "exclude_interactive_browser_credential": True}
        if self.options.tenant:
            kwargs["additionally_allowed_tenants"] = ["*"]
            kwargs["interactive_browser_tenant_id"] = self.options.tenant
        if self.options.arm_endpoint:
            kwargs["disable_instance_discovery"] = True  # a test or private cloud authority MSAL cannot look up
            kwargs.pop("authority")
        return DefaultAzureCredential(**kwargs)

    def counting_policy(self, paced: bool = True):
        return _policy_counter_class()(self.counter, self.pacer if paced else None)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs = {"base_url": self.arm, **self.options.client_kwargs}
        if "transport" not in kwargs:  # one connection pool for every client of the run (transport.py)
            with self._lock:
                if self._transport is None:
                    self._transport = shared_transport(self.options.max_in_flight, **self.options.client_kwargs)
            kwargs["transport"] = self._transport
        guard = _origin_guard_class()(kwargs["base_url"])  # last, so no other policy can send it elsewhere
        kwargs["per_retry_policies"] = [self.counting_policy(), *kwargs.get("per_retry_policies", []), guard]
        return kwargs

    def close(self) -> None:
        """Close the run's shared connection pool."""
        if self._transport is not None and self._transport.session is not None:
            self._transport.session.close()

    def gap(self, target: str, message: str, exc: BaseException | None = None, needs: str | None = None) -> None:
        status = _status(exc) if exc else None
        log.debug("gap: %s: %s (%r)", target, message, exc)
        kind = "unreadable"
        with self._lock:
            self.gaps.append(CollectionGap(kind, target, message + (f" ({_describe(exc)})" if exc else ""),
                                           status=status, needs=needs, resource=target))

    def read(self, target: str, needs: str, call: Callable[[], T], default: T, missing_ok: bool = False) -> T:
        """Run one read; a failure is a gap (fail closed), a 404 is 'absent' only where absence is normal."""
        try:
            return call()
        except Exception as exc:  # every SDK, transport and decoding error
            if missing_ok and _status(exc) == 404:
                return default
            self.gap(target, f"could not read {_short(target)}", exc, needs)
            return default

    def listed(self, target: str, needs: str, pager: Callable[[], Iterable[T]]) -> list[T]:
        return self.read(target, needs, lambda: drain(pager(), self.arm), [])

    def note(self, message: str) -> None:
        if self.options.progress:
            self.options.progress(message)

    # ------------------------------------------------------------------------------ collection

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
                found = [SimpleNamespace(id=r.get("id", ""), name=r.get("name", ""), location=r.get("location", ""))
                         for r in mine.get("microsoft.apimanagement/service", [])]
                found = [s for s in found if not self.options.apim or s.name == self.options.apim]
            else:
                found = self._services(apim, sub)
            self.note(f"subscription {sub}: {len(found)} API Management service(s)")
            if self.options.tracker is not None:
                self.options.tracker.add(len(found))
            with ThreadPoolExecutor(max_workers=self.options.max_workers) as pool:
                services += list(pool.map(lambda s, c=apim: self._service(c, s), found))
            if mine is not None:
                accounts += self._accounts_from(apim, mine.get("microsoft.cognitiveservices/accounts", []))
            else:
                accounts += self._accounts(apim, sub)
            targets = [s.resource_id for s in services if s.resource_id.startswith(f"/subscriptions/{sub}")]
            targets += [a.resource_id for a in accounts if a.resource_id.startswith(f"/subscriptions/{sub}")]
            with ThreadPoolExecutor(max_workers=self.options.max_workers) as pool:
                for part in pool.map(lambda rid, c=monitor: self._diagnostic_settings(c, rid), targets):
                    settings += part
            if reader:
                assignments += self._role_assignments(auth, sub, reader, roles)
            return services, accounts, settings, assignments, roles

        width = max(1, min(self.options.max_subscriptions, len(subscriptions)))
        with ThreadPoolExecutor(max_workers=width) as pool:
            return list(pool.map(one_subscription, subscriptions))

    def usage_reader(self, window: tuple[dt.date, dt.date], logs_endpoint: str | None = None) -> LiveUsage:
        """The window's usage, read with this run's credential, pacing and request count once the pipeline has
        resolved which APIs to query (auditor/usage/live.py); what it cannot read joins the estate's gaps."""
        from ..usage.live import LOGS_ENDPOINTS, read_usage

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
        query += "\n| project id, name, type, kind, location, resourceGroup, subscriptionId, sku, properties"
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
            self.note(f"Resource Graph not usable ({_describe(exc)}); listing with Resource Manager calls instead")
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
        raw = self.read("/subscriptions", "a role on at least one subscription",
                        lambda: self._raw_list(client, "/subscriptions?api-version=2022-12-01"), [])
        subs = [str(s.get("subscriptionId")) for s in raw if s.get("subscriptionId") and s.get("state", "Enabled") == "Enabled"]
        self.note(f"{len(subs)} subscription(s) visible")
        return subs

    def _whoami(self) -> str | None:
        try:
            token = self.credential.get_token("https://management.azure.com/.default").token
        except Exception as exc:
            self.gap("credential", "could not get a token for Azure Resource Manager", exc,
                     "a working login: az login, a service principal in the environment, or a managed identity")
            return None
        return principal_from_token(token)

    def _services(self, apim, sub: str) -> list[Any]:
        opt = self.options
        if opt.resource_group:
            items = self.listed(f"/subscriptions/{sub}/resourceGroups/{opt.resource_group}", APIM_READ,
                                lambda: apim.api_management_service.list_by_resource_group(opt.resource_group))
        else:
            items = self.listed(f"/subscriptions/{sub}", "Reader on the subscription", apim.api_management_service.list)
        return [s for s in items if not opt.apim or s.name == opt.apim]

    def _policy(self, target: str, scope: str, label: str, call: Callable[[], Any]) -> Policy | None:
        contract = self.read(target, APIM_READ, call, None, missing_ok=True)
        if contract is None or not getattr(contract, "value", None):
            return None
        return read_policy(contract.value, scope=scope, resource_id=target, label=label,
                           fmt=str(getattr(contract, "format", "") or "rawxml"))

    def _service(self, apim, svc: Any) -> ApimService:
        """One service. Its collections are independent reads: they run side by side, so the latency chain
        of a service is a few calls long, not one per collection and product."""
        rid = svc.id
        rg = rid.split("/resourceGroups/")[1].split("/")[0]
        name = svc.name
        base = rid

        def one_api(a: Any, ws: str | None = None) -> Api:
            scope = f"{base}/workspaces/{ws}" if ws else base
            api_id = f"{scope}/apis/{a.name}"
            if ws:
                get_policy = lambda: apim.workspace_api_policy.get(rg, name, ws, a.name, "policy", format="rawxml")  # noqa: E731
                list_ops = lambda: apim.workspace_api_operation.list_by_api(rg, name, ws, a.name)  # noqa: E731
                op_policy = lambda op: apim.workspace_api_operation_policy.get(  # noqa: E731
                    rg, name, ws, a.name, op, "policy", format="rawxml")
            else:
                get_policy = lambda: apim.api_policy.get(rg, name, a.name, "policy", format="rawxml")  # noqa: E731
                list_ops = lambda: apim.api_operation.list_by_api(rg, name, a.name)  # noqa: E731
                op_policy = lambda op: apim.api_operation_policy.get(  # noqa: E731
                    rg, name, a.name, op, "policy", format="rawxml")
            policy = self._policy(f"{api_id}/policies/policy", "api", f"api '{a.name}'", get_policy)
            api_diagnostics.extend(self._diagnostics(apim, rg, name, api_id, a.name, ws))
            ops = []
            for op in self.listed(f"{api_id}/operations", APIM_READ, list_ops):
                policy_of_op = self._policy(f"{api_id}/operations/{op.name}/policies/policy", "operation",
                                            f"operation '{op.name}'", lambda op=op: op_policy(op.name))
                ops.append(Operation(op.name, op.method or "", op.url_template or "", op.display_name or "", policy_of_op))
            return Api(
                name=a.name, display_name=a.display_name or a.name, path=a.path or "", service_url=a.service_url or "",
                api_type=str(a.api_type or ""), subscription_required=a.subscription_required,
                is_current=a.is_current is not False, revision=a.api_revision or "", workspace=ws, policy=policy,
                operations=tuple(ops), origin=Origin(None, None, api_id, f"api '{a.name}'"),
            )

        def one_workspace(w: Any) -> tuple[Workspace, list[Api], list[Fragment]]:
            """A workspace's own policy, APIs and fragments: the same reads, one level down."""
            wid = f"{base}/workspaces/{w.name}"
            policy = self._policy(f"{wid}/policies/policy", "workspace", f"workspace '{w.name}'",
                                  lambda: apim.workspace_policy.get(rg, name, w.name, "policy", format="rawxml"))
            raw_apis = self.listed(f"{wid}/apis", APIM_READ, lambda: apim.workspace_api.list_by_service(rg, name, w.name))
            apis = [one_api(a, w.name) for a in raw_apis]
            fragments = []
            for f in self.listed(f"{wid}/policyFragments", APIM_READ,
                                 lambda: apim.workspace_policy_fragment.list_by_service(rg, name, w.name)):
                fpol = self._policy(f"{wid}/policyFragments/{f.name}", "fragment", f"fragment '{f.name}'",
                                    lambda f=f: apim.workspace_policy_fragment.get(rg, name, w.name, f.name, format="rawxml"))
                if fpol is not None:
                    fragments.append(Fragment(f.name, fpol, w.name))
            return Workspace(w.name, policy), apis, fragments

        def one_product(p: Any) -> Product:
            pid = f"{base}/products/{p.name}"
            linked = self.listed(f"{pid}/apis", APIM_READ, lambda: apim.product_api.list_by_product(rg, name, p.name))
            policy = self._policy(f"{pid}/policies/policy", "product", f"product '{p.name}'",
                                  lambda: apim.product_policy.get(rg, name, p.name, "policy", format="rawxml"))
            return Product(p.name, p.display_name or p.name, p.subscription_required, tuple(x.name for x in linked),
                           None, policy, Origin(None, None, pid, f"product '{p.name}'"))

        def one_fragment(f: Any) -> Fragment | None:
            policy = self._policy(f"{base}/policyFragments/{f.name}", "fragment", f"fragment '{f.name}'",
                                  lambda: apim.policy_fragment.get(rg, name, f.name, format="rawxml"))
            return Fragment(f.name, policy) if policy is not None else None

        api_diagnostics: list[Diagnostic] = []  # per-API diagnostics (the portal puts App Insights there)
        workers = self.options.max_workers
        with ThreadPoolExecutor(max_workers=workers) as lists, ThreadPoolExecutor(max_workers=workers) as items:
            global_policy = lists.submit(self._policy, f"{base}/policies/policy", "global", "global policy",
                                         lambda: apim.policy.get(rg, name, "policy", format="rawxml"))
            raw = {key: lists.submit(self.listed, f"{base}/{key}", APIM_READ, pager) for key, pager in (
                ("apis", lambda: apim.api.list_by_service(rg, name)),
                ("products", lambda: apim.product.list_by_service(rg, name)),
                ("policyFragments", lambda: apim.policy_fragment.list_by_service(rg, name)),
                ("namedValues", lambda: apim.named_value.list_by_service(rg, name)),
                ("backends", lambda: apim.backend.list_by_service(rg, name)),
                ("loggers", lambda: apim.logger.list_by_service(rg, name)),
            )}
            raw_diagnostics = lists.submit(self._diagnostics, apim, rg, name, base)
            raw_workspaces = lists.submit(self.read, f"{base}/workspaces", APIM_READ,
                                          lambda: drain(apim.workspace.list_by_service(rg, name), self.arm), [], True)
            apis = items.map(one_api, raw["apis"].result())
            products = items.map(one_product, raw["products"].result())
            fragments = items.map(one_fragment, raw["policyFragments"].result())
            apis, products, fragments = tuple(apis), tuple(products), tuple(f for f in fragments if f is not None)
        named = [
            NamedValue.read(nv.name, nv.display_name or nv.name, bool(nv.secret), nv.key_vault is not None,
                            None if nv.secret else nv.value, Origin(None, None, f"{base}/namedValues/{nv.name}", "named value"))
            for nv in raw["namedValues"].result()
        ]
        backends = []
        for b in raw["backends"].result():
            pool_members = tuple(s.id for s in (getattr(getattr(b, "pool", None), "services", None) or []))
            btype = "pool" if pool_members or str(getattr(b, "type_properties_type", "")).lower() == "pool" else "single"
            backends.append(Backend(b.name, b.url or "", btype, pool_members, b.resource_id or ""))
        loggers = [Logger(lg.name, str(lg.logger_type or ""), lg.resource_id or "") for lg in raw["loggers"].result()]
        workspaces, more_apis, more_fragments = [], [], []
        for workspace, ws_apis, ws_fragments in map(one_workspace, raw_workspaces.result()):
            workspaces.append(workspace)
            more_apis += ws_apis
            more_fragments += ws_fragments
        apis, fragments = apis + tuple(more_apis), fragments + tuple(more_fragments)
        diagnostics = raw_diagnostics.result() + sorted(api_diagnostics, key=lambda d: (d.api or "", d.name))
        self.note(f"service {name}: {len(apis)} API(s)")
        if self.options.tracker is not None:
            self.options.tracker.advance(f"{name}: {len(apis)} API(s)")
        return ApimService(name, rid, svc.location or "", global_policy.result(), tuple(workspaces), products, apis,
                           fragments, tuple(named), tuple(backends), tuple(loggers), tuple(diagnostics),
                           Origin(None, None, rid, f"service '{name}'"))

    def _diagnostics(self, apim, rg: str, name: str, base: str, api: str | None = None,
                     workspace: str | None = None) -> list[Diagnostic]:
        """Service (or, with `api`, per-API) diagnostics with their `largeLanguageModel` settings, which the
        installed SDK does not model: read raw at an api-version that has them, falling back to the SDK when a
        cloud does not serve it. The portal creates the applicationinsights diagnostic per API (azure-facts.md
        section 9), so both scopes are read."""
        def origin(n: str) -> Origin:
            return Origin(None, None, f"{base}/diagnostics/{n}", "diagnostic")

        try:
            items = self._raw_list(apim, f"{base}/diagnostics?api-version={DIAGNOSTICS_LLM_API}")
            return [diagnostic_from_props(str(d.get("name", "")), d.get("properties") if isinstance(
                d.get("properties"), dict) else {}, api, origin(str(d.get("name", "")))) for d in items]
        except Exception as exc:
            if _status(exc) != 400:  # anything but "api-version not supported here" is a real gap
                self.gap(f"{base}/diagnostics", f"could not read {_short(base + '/diagnostics')}", exc, APIM_READ)
                return []
        if api is not None and workspace is not None:
            sdk_list = lambda: apim.workspace_api_diagnostic.list_by_workspace(rg, name, workspace, api)  # noqa: E731
        elif api is not None:
            sdk_list = lambda: apim.api_diagnostic.list_by_service(rg, name, api)  # noqa: E731
        else:
            sdk_list = lambda: apim.diagnostic.list_by_service(rg, name)  # noqa: E731
        out = []
        for d in self.listed(f"{base}/diagnostics", APIM_READ, sdk_list):
            props = {"loggerId": d.logger_id, "metrics": d.metrics,
                     "sampling": {"percentage": d.sampling.percentage} if d.sampling else None}
            out.append(diagnostic_from_props(d.name, props, api, origin(d.name)))
        return out

    def raw_pages(self, client, method: str, path: str, body: Any = None,
                  next_link: Callable[[Any], str | None] = lambda page: page.get("nextLink") or page.get(
                      "@odata.nextLink"),
                  max_pages: int = 1000) -> Iterator[Any]:
        """Pages of a request the installed SDKs do not model, sent through a client's own pipeline (auth,
        retries, counting, pacing) and following next links; a link that comes back ends the paging."""
        from azure.core.rest import HttpRequest

        url: str | None = path
        seen: set[str] = set()
        while url and url not in seen and len(seen) < max_pages:
            seen.add(url)
            response = client._send_request(HttpRequest(method, url, json=body))
            response.raise_for_status()
            page = response.json()
            yield page
            url = next_link(page)
            if url:  # only to the endpoint that answered (the Cost Management nextLink would get the POST body too)
                check_link(str(url), response.request.url)

    def _raw_list(self, apim, path: str) -> list[dict[str, Any]]:
        """GET a collection the installed SDKs have no client for (Cognitive Services, newer api-versions)."""
        items: list[dict[str, Any]] = []
        for body in self.raw_pages(apim, "GET", path):
            if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
                raise ValueError("malformed list body")
            items += [i for i in body.get("value", []) if isinstance(i, dict)]
        return items

    def _accounts(self, apim, sub: str) -> list[AiAccount]:
        scope = f"/subscriptions/{sub}" + (f"/resourceGroups/{self.options.resource_group}" if self.options.resource_group else "")
        path = f"{scope}/providers/Microsoft.CognitiveServices/accounts?api-version={COGNITIVE_API}"
        raw = self.read(scope, "Reader on the subscription", lambda: self._raw_list(apim, path), [])
        return self._accounts_from(apim, raw)

    def _accounts_from(self, apim, raw: list[dict[str, Any]]) -> list[AiAccount]:
        out = []
        for a in raw:
            if str(a.get("kind", "")).lower() not in ("openai", "aiservices"):
                continue
            props = a.get("properties") if isinstance(a.get("properties"), dict) else {}
            acls = props.get("networkAcls") if isinstance(props.get("networkAcls"), dict) else {}
            rid = str(a.get("id", ""))
            deployments = self.read(rid, ACCOUNT_READ, lambda rid=rid: self._raw_list(
                apim, f"{rid}/deployments?api-version={COGNITIVE_API}"), [])
            out.append(AiAccount(
                rid, str(a.get("name", "")), str(a.get("kind", "")), str(a.get("location", "")), str(props.get("endpoint", "")),
                props.get("disableLocalAuth") if isinstance(props.get("disableLocalAuth"), bool) else None,
                props.get("publicNetworkAccess"), acls.get("defaultAction"),
                tuple(Deployment(str(d.get("name", "")), str((d.get("properties") or {}).get("model", {}).get("name", "")),
                                 str((d.get("properties") or {}).get("model", {}).get("version", "")),
                                 str((d.get("sku") or {}).get("name", ""))) for d in deployments),
                Origin(None, None, rid, f"account '{a.get('name')}'"),
            ))
        return out

    def _diagnostic_settings(self, monitor, resource_id: str) -> list[DiagnosticSetting]:
        items = self.listed(resource_id, MONITOR_READ, lambda: monitor.diagnostic_settings.list(resource_id))
        return [
            DiagnosticSetting(
                resource_id, s.name, s.workspace_id,
                tuple(LogSetting(x.category, getattr(x, "category_group", None), bool(x.enabled)) for x in s.logs or []),
                tuple(LogSetting(x.category, None, bool(x.enabled)) for x in s.metrics or []),
                getattr(s, "log_analytics_destination_type", None),
                Origin(None, None, s.id, f"diagnostic setting '{s.name}'"),
            )
            for s in items
        ]

    def _role_assignments(self, auth, sub: str, principal: str, definitions: dict[str, RoleDefinition]) -> list[RoleAssignment]:
        scope = f"/subscriptions/{sub}"
        items = self.listed(scope, ROLES_READ, lambda: auth.role_assignments.list_for_subscription(
            filter=f"principalId eq '{principal}'"))
        out = []
        for ra in items:
            out.append(RoleAssignment(ra.scope or scope, ra.role_definition_id, ra.principal_id or principal,
                                      str(ra.principal_type or ""), Origin(None, None, ra.id, "role assignment")))
            guid = ra.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
            if guid not in definitions:
                rd = self.read(ra.role_definition_id, ROLES_READ,
                               lambda rid=ra.role_definition_id: auth.role_definitions.get_by_id(rid), None)
                if rd is not None:
                    perms = rd.permissions or []
                    definitions[guid] = RoleDefinition(
                        guid, rd.role_name or guid,
                        tuple(a for p in perms for a in (p.actions or [])),
                        tuple(a for p in perms for a in (p.not_actions or [])),
                        tuple(a for p in perms for a in (p.data_actions or [])),
                    )
        return out


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
