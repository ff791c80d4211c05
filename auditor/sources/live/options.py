"""What a live run is asked to read, and where: subscriptions, scope, cloud, budgets, processes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CLOUDS = {
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}



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
    clock: Any = None  # the pacer's clock (pacing.Clock; tests: a virtual one shared with a fake ARM); None: wall time



def worker_processes(options: LiveOptions, subscriptions: int) -> int:
    """Processes to read in: the option, else one per core the run may use, never more than subscriptions.
    One process when a credential or a clock was handed in (neither can cross into another process)."""
    if options.credential is not None or options.clock is not None or subscriptions < 2:
        return 1
    if options.jobs is not None:
        return max(1, min(options.jobs, subscriptions))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, subscriptions))

