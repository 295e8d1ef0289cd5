"""Time as the demo reads it: wall milliseconds (the services' clock, to compare with
``bought_at_ms``) and a sleep that a stop event cuts short."""

from __future__ import annotations

import asyncio
import contextlib
import time


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop`` is set; True if stopped."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()

