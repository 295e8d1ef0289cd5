"""Running a coroutine from a synchronous test.

Tests of async code are ``async def`` tests (``@pytest.mark.asyncio``). A few can't be: a
hypothesis property (hypothesis calls the test function itself, synchronously), and a test of
real processes that blocks on them but needs an async client once (an audit, a NATS
subscription). They drive an event loop through these two, and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on an event loop of its own (closed afterwards)."""
    with blocking_loop() as loop:
        return loop.run(main)


@contextlib.contextmanager
def blocking_loop() -> Iterator[asyncio.Runner]:
    """One event loop for several coroutines run one after another (``loop.run(coro)``), so
    that what one starts (a server, a channel) lives on for the next; closed at the end."""
    with asyncio.Runner() as loop:
        yield loop
