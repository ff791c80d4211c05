"""Stay under ARM's read throttling instead of hammering into 429s.

ARM meters reads with a token bucket per principal (about 250 reads, refilled at about 25 per second) and
reports what is left in `x-ms-ratelimit-remaining-subscription-reads`. The pacer keeps its own estimate
from that header, reserves a token per request across threads, and makes a request wait for the refill
when the estimate falls to a low-water mark. 429s with Retry-After are still honoured by the SDK retry.

A bucket never holds more than its size, so time alone does not raise the estimate past the largest count
a header has shown (plus the read that header answered), less the requests still in flight: after an idle
spell, or while answers are slow to come back, the pacer would otherwise believe in reads ARM has not got.
(Reads in flight beyond the bucket's size are not held back: ARM's bucket holds 250, the run's bound is 64.)

Time comes from a clock handed in (the system's by default), so a test can put the pacer and a fake ARM's
bucket on one virtual clock and get the same answer however loaded the machine is.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from typing import Protocol

REMAINING_HEADERS = ("x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-tenant-reads")


class Clock(Protocol):
    """Where the pacer reads the time and waits."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall time: what a real run paces by."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class ReadPacer:
    def __init__(self, refill_per_second: float = 25.0, low_water: int = 12, enabled: bool = True,
                 clock: Clock = SYSTEM_CLOCK):
        self.rate = refill_per_second
        self.low_water = low_water
        self.enabled = enabled
        self.clock = clock
        self.tokens: float | None = None  # estimate; None until the first response says
        self.at = clock.monotonic()
        self.ceiling: float | None = None  # the least the bucket can hold: the largest header seen, plus one
        self.pending = 0  # requests sent (their tokens reserved) whose answer has not come back
        self.waited = 0.0
        self._lock = threading.Lock()
        # Until a response says how many reads are left, one request goes alone (a probe) and the others wait
        # for its answer: a burst of unpaced first requests could otherwise empty a small budget.
        self._answered = threading.Event()
        self._probing = False

    def observe(self, headers: Mapping[str, str]) -> None:
        for name in REMAINING_HEADERS:
            value = headers.get(name)
            if value is None:
                continue
            try:
                remaining = float(value)
            except ValueError:
                return
            with self._lock:
                now = self.clock.monotonic()
                self.ceiling = max(self.ceiling or 0.0, remaining + 1)
                # the header is the truth as of now; keep the lower of it and our estimate (others may have read)
                estimate = self._estimate(now)
                if estimate is None or remaining < estimate:
                    self.tokens, self.at = remaining, now
            return

    def _estimate(self, now: float) -> float | None:
        """Tokens left now; `at` may lie ahead (reservations made by waiting requests), which lowers it.
        Never more than a full bucket less the requests in flight, which may not have reached ARM yet."""
        if self.tokens is None:
            return None
        refilled = self.tokens + (now - self.at) * self.rate
        return refilled if self.ceiling is None else min(refilled, self.ceiling - self.pending)

    def answered(self) -> None:
        """A response (or a failure) came back: its request is no longer in flight, and the requests held
        behind the probe may go."""
        with self._lock:
            self.pending = max(0, self.pending - 1)
        self._answered.set()

    def before_request(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            hold = self.tokens is None and self._probing and not self._answered.is_set()
            self._probing = True
        if hold:
            self._answered.wait(timeout=30)
        with self._lock:
            now = self.clock.monotonic()
            estimate = self._estimate(now)
            self.pending += 1
            if estimate is None:
                return
            wait = 0.0 if estimate >= self.low_water else (self.low_water - estimate) / self.rate
            # reserve this request's token at the moment it will be sent
            self.tokens = estimate + wait * self.rate - 1
            self.at = now + wait
        if wait > 0:
            self.clock.sleep(wait)
            with self._lock:
                self.waited += wait


_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?#]+)", re.I)


class SubscriptionPacers:
    """A pacer per subscription, and one for tenant-level reads, with a bound on requests in flight.

    ARM meters reads per subscription (and per principal), and tenant-level reads (no subscription id in the
    URL: Resource Graph, the subscription list) in a bucket of their own: "Subscription limits apply per
    subscription, per service principal, and per operation type"; "Subscription requests are ones that
    involve passing your subscription ID" (learn.microsoft.com, azure-resource-manager/management/
    request-limits-and-throttling, the 2024 token-bucket model: 250 reads, 25 per second, per subscription
    and per tenant). So subscriptions read side by side never share a budget; one shared pacer would hold
    every subscription to the pace of one. The semaphore bounds what the whole tenant run has in flight.
    """

    def __init__(self, enabled: bool = True, max_in_flight: int = 64, clock: Clock = SYSTEM_CLOCK,
                 **pacer_options: float):
        self.enabled = enabled
        self.clock = clock
        self._options = pacer_options
        self._pacers: dict[str, ReadPacer] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, max_in_flight))
        self._elsewhere = 0.0

    def for_url(self, url: str) -> ReadPacer:
        m = _SUBSCRIPTION.search(url or "")
        key = m.group(1).lower() if m else ""  # "": the tenant's own bucket
        with self._lock:
            pacer = self._pacers.get(key)
            if pacer is None:
                pacer = self._pacers[key] = ReadPacer(enabled=self.enabled, clock=self.clock, **self._options)
            return pacer

    def before_request(self, url: str) -> None:
        self.for_url(url).before_request()
        self._slots.acquire()

    def after_request(self, url: str, headers: Mapping[str, str] | None) -> None:
        """Once per before_request, whether the request got a response or failed."""
        self._slots.release()
        pacer = self.for_url(url)
        if headers is not None:
            pacer.observe(headers)
        pacer.answered()

    def add_waited(self, seconds: float) -> None:
        """Waits of pacers in other processes (slices of the subscriptions), counted with these."""
        with self._lock:
            self._elsewhere += seconds

    @property
    def waited(self) -> float:
        """Thread-seconds spent waiting for read budget, over every subscription."""
        with self._lock:
            return self._elsewhere + sum(p.waited for p in self._pacers.values())
