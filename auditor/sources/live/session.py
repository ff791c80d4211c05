"""A live run's connection to Azure Resource Manager: the credential, the clients' shared pipeline (counting,
pacing, the same-origin guard, one connection pool), and reads that turn every failure into a gap (fail closed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ...estate import CollectionGap
from .http import (
    RequestCounter,
    check_link,
    describe,
    drain,
    origin_guard_class,
    policy_counter_class,
    principal_from_token,
    short_id,
    status_of,
)
from .options import CLOUDS, LiveOptions
from .pacing import SubscriptionPacers
from .transport import shared_transport

T = TypeVar("T")
log = logging.getLogger("aoai_audit.sources.live")


class LiveSession:
    def __init__(self, options: LiveOptions):
        self.options = options
        self.gaps: list[CollectionGap] = []
        self.counter = RequestCounter()
        self.pacer = SubscriptionPacers(enabled=options.pacing, max_in_flight=options.max_in_flight,
                                        **({"clock": options.clock} if options.clock is not None else {}))
        self._lock = threading.Lock()
        arm, authority = CLOUDS.get(options.cloud, CLOUDS["AzureCloud"])
        self.arm = (options.arm_endpoint or arm).rstrip("/")
        self.authority = authority
        self.credential = options.credential or self._default_credential()
        self._transport: Any = None

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
        return policy_counter_class()(self.counter, self.pacer if paced else None)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs = {"base_url": self.arm, **self.options.client_kwargs}
        if "transport" not in kwargs:  # one connection pool for every client of the run (transport.py)
            with self._lock:
                if self._transport is None:
                    self._transport = shared_transport(self.options.max_in_flight, **self.options.client_kwargs)
            kwargs["transport"] = self._transport
        guard = origin_guard_class()(kwargs["base_url"])  # last, so no other policy can send it elsewhere
        kwargs["per_retry_policies"] = [self.counting_policy(), *kwargs.get("per_retry_policies", []), guard]
        return kwargs

    def close(self) -> None:
        """Close the run's shared connection pool."""
        if self._transport is not None and self._transport.session is not None:
            self._transport.session.close()

    def gap(self, target: str, message: str, exc: BaseException | None = None, needs: str | None = None) -> None:
        status = status_of(exc) if exc else None
        log.debug("gap: %s: %s (%r)", target, message, exc)
        kind = "unreadable"
        with self._lock:
            self.gaps.append(CollectionGap(kind, target, message + (f" ({describe(exc)})" if exc else ""),
                                           status=status, needs=needs, resource=target))

    def read(self, target: str, needs: str, call: Callable[[], T], default: T, missing_ok: bool = False) -> T:
        """Run one read; a failure is a gap (fail closed), a 404 is 'absent' only where absence is normal."""
        try:
            return call()
        except Exception as exc:  # every SDK, transport and decoding error
            if missing_ok and status_of(exc) == 404:
                return default
            self.gap(target, f"could not read {short_id(target)}", exc, needs)
            return default

    def listed(self, target: str, needs: str, pager: Callable[[], Iterable[T]]) -> list[T]:
        return self.read(target, needs, lambda: drain(pager(), self.arm), [])

    def note(self, message: str) -> None:
        if self.options.progress:
            self.options.progress(message)

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

    def raw_list(self, apim, path: str) -> list[dict[str, Any]]:
        """GET a collection the installed SDKs have no client for (Cognitive Services, newer api-versions)."""
        items: list[dict[str, Any]] = []
        for body in self.raw_pages(apim, "GET", path):
            if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
                raise ValueError("malformed list body")
            items += [i for i in body.get("value", []) if isinstance(i, dict)]
        return items

    def _whoami(self) -> str | None:
        try:
            token = self.credential.get_token("https://management.azure.com/.default").token
        except Exception as exc:
            self.gap("credential", "could not get a token for Azure Resource Manager", exc,
                     "a working login: az login, a service principal in the environment, or a managed identity")
            return None
        return principal_from_token(token)
