"""A journal context whose clock runs fast: for measuring the store, not the price rule."""

from __future__ import annotations

import dataclasses
import time

from services.journal import JournalContext, Timing


def warped_context(speed: int, origin_ns: int | None = None) -> JournalContext:
    """The real context, except that its clock runs ``speed`` times faster from ``origin_ns``
    (``time.time_ns()``; default now). Processes sharing a store must share the origin too, or
    their clocks drift apart by ``speed`` times the gap between their origins.

    With ``speed`` 10_000 a 1 s slot plays out in 0.1 ms of real time, so a campaign's price is
    back at its minimum long before the next purchase: every attempt runs the whole purchase
    path instead of stopping at ``PriceAboveMax``. The store operations of a purchase do not
    depend on the clock. The resolver's grace is scaled to stay 2 s of real time (it only runs
    when a buyer finds its own account locked, which the load's buyers never do)."""
    if speed < 1:
        raise ValueError("speed must be at least 1")
    origin = time.time_ns() if origin_ns is None else origin_ns

    def clock() -> int:
        return (origin + (time.time_ns() - origin) * speed) // 1_000_000

    timing = Timing()
    grace = dataclasses.replace(timing, resolve_grace_ms=timing.resolve_grace_ms * speed)
    return JournalContext(clock=clock, timing=grace)
