"""Group commit for one process's appends to a list document (docs/protocol.md, "A user's
purchases"). A recovery replica credits many campaigns at once, and each credit run lists its
purchases under their buyers: without grouping, every run would append to a busy buyer's list
on its own, and the concurrent appends would lose CAS races to each other (a read and a write
each). Grouped, the appends to one list wait their turn, and whoever writes takes along every
append queued meanwhile: one write per list per turn instead of one per run, and no race
inside the process.

The journal takes its grouping from its context (``JournalContext.group_writes``) and hands
it all of a credit run's appends (one per buyer) at once: a process gets a ``WriteGroups``,
which runs them side by side; the simulation, which runs without an event loop,
``write_alone``, which runs them one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


Write = Callable[[list[Any]], Awaitable[None]]
"""Appends the items it is given to one list document."""
Append = tuple[str, Sequence[Any], Write]
"""An append: the list document's key, the items, and the write that appends them there."""


class GroupWrites(Protocol):
    """Runs each append's write over its items, maybe together with the items of other
    appends to the same key: returns once, for each append, a write that held all its items
    landed; raises what the first failed one raised (after every append has ended)."""

    def __call__(self, appends: Sequence[Append]) -> Awaitable[None]: ...


async def write_alone(appends: Sequence[Append]) -> None:
    """No grouping: each append writes its own items, one after the other."""
    for _key, items, write in appends:
        await write(list(items))


@dataclass
class _Append:
    items: list[Any]
    written: bool = False


@dataclass
class _Group:
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    queued: list[_Append] = field(default_factory=list)
    callers: int = 0


class WriteGroups:
    """Group commit per key, for one event loop: one writer at a time (first come, first
    served), each writing its own items and every append queued before it, so each call
    writes at most once. A write that fails fails its caller only: the appends it took along
    are queued again, for their own callers to write."""

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}

    async def __call__(self, appends: Sequence[Append]) -> None:
        """All of ``appends`` at once, so that an append waiting for its list's turn does
        not hold up the others."""
        ended = await asyncio.gather(*(self.append(*append) for append in appends),
                                     return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome

    async def append(self, key: str, items: Sequence[T],
                     write: Callable[[list[T]], Awaitable[None]]) -> None:
        """One append: returns once a write that held ``items`` landed."""
        group = self._groups.setdefault(key, _Group())
        mine = _Append(list(items))
        group.queued.append(mine)
        group.callers += 1
        try:
            async with group.turn:
                if not mine.written:
                    await _write_queued(group, mine, write)
        finally:
            group.callers -= 1
            if not group.callers:
                del self._groups[key]


async def _write_queued(group: _Group, mine: _Append,
                        write: Callable[[list[T]], Awaitable[None]]) -> None:
    batch, group.queued = group.queued, []
    try:
        await write([item for append in batch for item in append.items])
    except BaseException:
        group.queued[:0] = [append for append in batch if append is not mine]
        raise
    for append in batch:
        append.written = True
