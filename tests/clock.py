"""A virtual clock for tests of anything that waits on time (the ARM read pacer, the fake ARM's bucket).

Time moves only when someone sleeps on it, by exactly what they asked for, so how a run is paced cannot
depend on how loaded the machine is. Sleepers do not really sleep: a pacing wait costs no wall time.
"""

from __future__ import annotations

import threading


class VirtualClock:
    def __init__(self, start: float = 1000.0):
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []  # every wait asked for, in order

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance time by `seconds` (waits of several threads add up: never less time than any asked for)."""
        if seconds <= 0:
            return
        with self._lock:
            self._now += seconds
            self.sleeps.append(seconds)
