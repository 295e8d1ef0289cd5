"""Waiting until something holds, by polling: ``eventually`` in async tests (it yields to the
event loop between looks), ``wait_for`` in synchronous ones (it sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0, what: str = "") -> None:
    """Wait (polling every 10 ms) until ``check()`` holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what or check}")
        await asyncio.sleep(0.01)


def wait_for(found: Callable[[], T | None], what: str, timeout_s: float = 8.0) -> T:
    """Poll ``found`` (every 50 ms) until it returns something other than None, and return
    that; fail saying ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = found()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)
