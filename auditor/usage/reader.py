"""What the live usage reads (usage/live.py, usage/billed.py) need from the live collector, without importing it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class LiveReader(Protocol):
    """What the usage reads need from the live collector (sources/live.py), without importing it."""

    credential: Any
    options: Any

    def counting_policy(self, paced: bool = True) -> Any: ...
    def client_kwargs(self) -> dict[str, Any]: ...
    def gap(self, target: str, message: str, exc: BaseException | None = None, needs: str | None = None) -> None: ...
    def note(self, message: str) -> None: ...
    def read(self, target: str, needs: str, call: Callable[[], T], default: T, missing_ok: bool = False) -> T: ...
    def raw_pages(self, client: Any, method: str, path: str, body: Any = None,
                  next_link: Callable[[Any], str | None] = ..., max_pages: int = 1000) -> Iterator[Any]: ...
