"""The ARM read pacer on a virtual clock: a simulated token bucket as ARM meters reads (250 reads, 25 a second
refill, learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling), driven
request by request, so every figure follows from the bucket and nothing from the machine's speed."""

from __future__ import annotations

import pytest

from aoai_audit.sources.live.pacing import ReadPacer, SubscriptionPacers
from clock import VirtualClock

HEADER = "x-ms-ratelimit-remaining-subscription-reads"


class Bucket:
    """ARM's read bucket on the same clock: a read takes a token or is refused (a 429)."""

    def __init__(self, clock: VirtualClock, capacity: int, rate: float):
        self.clock, self.capacity, self.rate = clock, capacity, rate
        self.tokens, self.at = float(capacity), clock.monotonic()
        self.refused = 0

    def read(self) -> dict[str, str]:
        now = self.clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            self.refused += 1
            return {}
        self.tokens -= 1
        return {HEADER: str(int(self.tokens))}


def drive(pacer: ReadPacer, bucket: Bucket, reads: int) -> None:
    for _ in range(reads):
        pacer.before_request()
        pacer.observe(bucket.read())
        pacer.answered()


@pytest.mark.parametrize(("capacity", "reads"), [(250, 1000), (15, 100), (13, 40)])
def test_paced_reads_never_meet_an_empty_bucket_and_wait_only_for_the_refill(capacity, reads):
    clock = VirtualClock()
    pacer, bucket = ReadPacer(clock=clock), Bucket(clock, capacity, 25.0)
    drive(pacer, bucket, reads)
    assert bucket.refused == 0
    # the pacer spends the bucket down to its low-water mark, then one refill interval per read (give or take
    # two: the header counts whole reads, so the estimate may sit up to one token under the bucket)
    free = capacity - pacer.low_water + 1
    assert pacer.waited == pytest.approx(max(0, reads - free) / 25.0, abs=2 / 25.0)
    assert pacer.waited == pytest.approx(sum(clock.sleeps))


def test_without_pacing_the_same_reads_run_into_the_throttle():
    clock = VirtualClock()
    pacer, bucket = ReadPacer(clock=clock, enabled=False), Bucket(clock, 15, 25.0)
    drive(pacer, bucket, 40)
    assert bucket.refused == 40 - 15 and clock.sleeps == [] and pacer.waited == 0


def test_a_header_lower_than_the_estimate_wins():
    """Other readers share the bucket: what ARM says is left is the truth when it is lower than our count."""
    clock = VirtualClock()
    pacer = ReadPacer(clock=clock)
    pacer.observe({HEADER: "200"})
    pacer.observe({HEADER: "5"})
    pacer.before_request()  # 5 left, low water 12: wait for 7 refills and one more for this read's token
    assert clock.sleeps == [pytest.approx((pacer.low_water - 5) / pacer.rate)]
    pacer.observe({HEADER: "240"})  # higher than the estimate: stale, ignored
    assert pacer.tokens == pytest.approx(pacer.low_water - 1)


def test_every_subscription_pacer_waits_on_the_clock_it_was_given():
    clock = VirtualClock()
    pacers = SubscriptionPacers(clock=clock)
    url = "https://management.azure.com/subscriptions/s1/resourceGroups/rg"
    pacers.before_request(url)
    pacers.after_request(url, {HEADER: "0"})
    pacers.before_request(url)
    pacers.after_request(url, {HEADER: "11"})
    assert pacers.for_url(url).clock is clock and clock.sleeps and pacers.waited == pytest.approx(sum(clock.sleeps))


def test_after_an_idle_spell_the_estimate_stops_at_a_full_bucket_less_the_reads_in_flight():
    """Time alone fills a bucket only to its size, and reads sent but not yet answered will still take their
    tokens: two overlapping bursts after a pause must not be let through on the strength of the pause."""
    clock = VirtualClock()
    pacer, bucket = ReadPacer(clock=clock), Bucket(clock, 15, 25.0)
    drive(pacer, bucket, 1)  # the header says 14 left: the bucket holds at least 15
    clock.sleep(60)  # idle: counted by time alone, 1,500 reads would be waiting
    for _ in range(8):
        pacer.before_request()  # sent, not yet at ARM
    answers = [bucket.read() for _ in range(8)]  # they land; their answers are still on the way back
    for _ in range(8):
        pacer.before_request()
    answers += [bucket.read() for _ in range(8)]
    for headers in answers:
        pacer.observe(headers)
        pacer.answered()
    assert bucket.refused == 0 and pacer.pending == 0
