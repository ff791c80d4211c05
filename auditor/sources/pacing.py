"""Stay under ARM's read throttling instead of hammering into 429s.

ARM meters reads with a token bucket per principal (about 250 reads, refilled at about 25 per second) and
reports what is left in `x-ms-ratelimit-remaining-subscription-reads`. The pacer keeps its own estimate
from that header, reserves a token per request across threads, and makes a request wait for the refill
when the estimate falls to a low-water mark. 429s with Retry-After are still honoured by the SDK retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

REMAINING_HEADERS = ("x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-tenant-reads")


class ReadPacer:
    def __init__(self, refill_per_second: float = 25.0, low_water: int = 12, enabled: bool = True):
        self.rate = refill_per_second
        self.low_water = low_water
        self.enabled = enabled
        self.tokens: float | None = None  # estimate; None until the first response says
        self.at = time.monotonic()
        self.waited = 0.0
        self._lock = threading.Lock()

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
                now = time.monotonic()
                # the header is the truth as of now; keep the lower of it and our estimate (others may have read)
                estimate = self._estimate(now)
                if estimate is None or remaining < estimate:
                    self.tokens, self.at = remaining, now
            return

    def _estimate(self, now: float) -> float | None:
        """Tokens left now; `at` may lie ahead (reservations made by waiting requests), which lowers it."""
        if self.tokens is None:
            return None
        return self.tokens + (now - self.at) * self.rate

    def before_request(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            estimate = self._estimate(now)
            if estimate is None:
                return
            wait = 0.0 if estimate >= self.low_water else (self.low_water - estimate) / self.rate
            # reserve this request's token at the moment it will be sent
            self.tokens = estimate + wait * self.rate - 1
            self.at = now + wait
        if wait > 0:
            time.sleep(wait)
            with self._lock:
                self.waited += wait
