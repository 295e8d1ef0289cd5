"""A DocumentStore wrapper that records each store operation that did not succeed as an event
on the span it ran under: the journal step's span (or, for a read before any step, the call's).
The event is named for the operation (``store.get``, ``store.insert``, ...) and says which
key, the outcome (``exists``, ``cas mismatch``, ``not found``, ``in doubt``, ``unavailable``,
or a bug's exception type) and how long it took (``abc.duration_us``); it is stamped when the
operation began. A lost race (exists, cas mismatch) is how the protocol learns it lost, not a
failure: the step's status stays unset; an operation in doubt or unavailable fails its step,
whose span then says so too (``_telemetry._Step``).

An operation that succeeded leaves no record of its own: a step is one or two operations, so
its span's duration is theirs, and an event per operation (made on the purchase path, then
encoded and exported) was about a sixth of what tracing cost a purchase when profiled."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from opentelemetry import trace

from services.store import (
    CasMismatch,
    Exists,
    InDoubt,
    NotFound,
    StoreError,
    StoreWrapper,
    Unavailable,
)

T = TypeVar("T")
_OUTCOMES: tuple[tuple[type[StoreError], str], ...] = (
    (Exists, "exists"), (CasMismatch, "cas mismatch"), (NotFound, "not found"),
    (InDoubt, "in doubt"), (Unavailable, "unavailable"))


class TracedStore(StoreWrapper):
    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        began = time.time_ns()
        try:
            return await call()
        except Exception as exc:
            span = trace.get_current_span()
            # Not recording: no operation is being traced (recovery's idle checks, notify's
            # polls), or the sampler dropped this one.
            if span.is_recording():
                span.add_event(f"store.{op}", {
                    "abc.key": key, "abc.outcome": outcome_of(exc),
                    "abc.duration_us": (time.time_ns() - began) // 1000}, began)
            raise


def outcome_of(exc: BaseException) -> str:
    """A failed store operation's outcome as its event says it: ``exists``, ``in doubt``, ...
    (a bug's exception: its type's name)."""
    for error, outcome in _OUTCOMES:
        if isinstance(exc, error):
            return outcome
    return type(exc).__name__

