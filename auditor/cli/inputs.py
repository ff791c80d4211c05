"""The estate a command audits: read from files or live Azure (with a progress bar at a terminal), with the
usage, prices and cost centres the options name."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace

import click

from .options import fail, usage_window


def apply_usage(estate, settings, usage: dict):
    """Load --usage files onto the estate and --prices / --cost-centres into the settings."""
    if not (usage["usage_files"] or usage["prices_file"] or usage["cost_centres_file"]):
        return estate, settings  # the usage readers are not imported for an audit without them
    from ..usage.costcentres import CostCentreError, load_cost_centres
    from ..usage.files import UsageFileError, load_usage_file
    from ..usage.prices import PriceFileError, load_prices, shipped_prices

    paths = []
    for path in usage["usage_files"]:  # a folder stands for the exports in it (CSV and JSON, by name)
        if os.path.isdir(path):
            paths += sorted(os.path.join(root, f) for root, _d, names in os.walk(path) for f in names
                            if f.lower().endswith((".csv", ".json")))
        else:
            paths.append(path)
    try:
        for path in paths:
            data = load_usage_file(path)
            estate = replace(estate, usage=estate.usage.merge(data) if estate.usage else data)
        if estate.usage is not None and (usage["window"] or usage["date_from"] or usage["date_to"]):
            estate = replace(estate, usage=_windowed(estate.usage, paths, usage))
        if usage["prices_file"]:
            settings = replace(settings, prices=shipped_prices().overridden_by(load_prices(usage["prices_file"])))
        if usage["cost_centres_file"]:
            settings = replace(settings, cost_centres=load_cost_centres(usage["cost_centres_file"]))
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: no such file")
    except (UsageFileError, PriceFileError, CostCentreError) as exc:
        fail(str(exc))
    return estate, settings



def _windowed(data, paths: list[str], usage: dict):
    """The usage files' rows inside the window the options name; none left is exit 2 naming the files and the days
    they hold, never a report of other days' money."""
    start, end = usage_window(usage["window"], usage["date_from"], usage["date_to"])
    kept = data.within(start, end)
    if data.rows and not kept.rows:
        held = f"{data.window[0]} to {data.window[1]}" if data.window else "no dated rows"
        fail(f"no usage rows in the window {start} to {end}: {', '.join(paths)} hold {held}")
    return kept



class _ProgressBar:
    """A progress bar on stderr for live runs at a terminal (services read / found, requests, throttling)."""

    def __init__(self, counter_text):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.counter_text = counter_text
        self.progress = Progress(TextColumn("[bold]reading[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[requests]}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("services", total=0, requests="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def add(self, n: int) -> None:
        task = self.progress.tasks[0]
        self.progress.update(self.task, total=(task.total or 0) + n, requests=self.counter_text())

    def advance(self, label: str) -> None:
        self.progress.update(self.task, advance=1, description=label, requests=self.counter_text())



@contextlib.contextmanager
def _live_estate(live: dict, reader_principal: str | None, usage: dict | None = None):
    """The live estate and, when a usage window applies, the reader of its usage (the usage phase calls it once
    the context says which APIs to query); the connections stay open until the caller is done."""
    from ..sources.live.collector import live_session
    from ..sources.live.http import RequestCounter
    from ..sources.live.options import LiveOptions

    def say(msg: str) -> None:
        click.echo(f"aoai-audit: {msg}", err=True)

    bar, progress = None, None
    counter_box: list[RequestCounter] = []
    if not live["quiet"] and sys.stderr.isatty():
        bar = _ProgressBar(lambda: counter_box[0].short() if counter_box else "")
    elif not live["quiet"]:
        progress = say  # not a terminal (CI logs): one line per step instead of a bar
    options = LiveOptions(
        subscriptions=tuple(live["subscriptions"]), resource_group=live["resource_group"], apim=live["apim"],
        tenant=live["tenant"], cloud=live["cloud"], arm_endpoint=live["arm_endpoint"],
        reader_principal=reader_principal, progress=progress, all_subscriptions=live["all_subscriptions"],
        tracker=bar, jobs=live.get("jobs"),
    )
    window = None if not usage or usage["no_usage"] else usage_window(usage["window"], usage["date_from"],
                                                                       usage["date_to"])
    with bar or contextlib.nullcontext(), live_session(options, counter_box.append if bar else None) as collector:
        estate = collector.collect()
        reader = None if window is None else collector.usage_reader(
            window, live.get("logs_endpoint") or live["arm_endpoint"])
        yield estate, reader
    if not live["quiet"]:
        click.echo(f"aoai-audit: {collector.counter.summary()}", err=True)


@contextlib.contextmanager
def load_estate(paths, live: dict, reader_principal: str | None = None, usage: dict | None = None,
                service_name: str | None = None):
    """The estate to audit, and the live usage reader when usage is read live (None otherwise)."""
    if live["subscriptions"] or live["all_subscriptions"]:
        if paths:
            fail("give PATHs or --subscription, not both")
        with _live_estate(live, reader_principal, usage) as loaded:
            yield loaded
        return
    if not paths:
        fail("give at least one PATH to audit (an APIOps folder, template, plan, policy file or snapshot), "
             "or --subscription ID to audit live")
    from ..sources.detect import load_paths

    yield load_paths(list(paths), service_name), None
