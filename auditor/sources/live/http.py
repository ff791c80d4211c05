"""Guarded HTTP for the live collector: every attempt counted and paced, every request kept on the endpoint
that issued it (the bearer token never leaves), pagers drained without loops, failures described in one line."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .pacing import SubscriptionPacers

T = TypeVar("T")


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



def policy_counter_class():
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



def origin_guard_class():
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



def status_of(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)



def describe(exc: BaseException) -> str:
    status = status_of(exc)
    code = getattr(getattr(exc, "error", None), "code", None)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if status:
        return f"{status}{' ' + code if code else ''}: {text[:200]}"
    return f"{type(exc).__name__}: {text[:200]}"



def short_id(resource_id: str) -> str:
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

