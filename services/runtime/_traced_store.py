"""A DocumentStore over another that records each store operation that did not succeed as an event
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

from opentelemetry import trace

from services.store import (
    CasMismatch,
    Document,
    DocumentStore,
    Exists,
    InDoubt,
    Json,
    NotFound,
    StoreError,
    Unavailable,
)

_OUTCOMES: tuple[tuple[type[StoreError], str], ...] = (
    (Exists, "exists"), (CasMismatch, "cas mismatch"), (NotFound, "not found"),
    (InDoubt, "in doubt"), (Unavailable, "unavailable"))


class TracedStore:
    """The five operations written out, each one coroutine around the inner store's, rather
    than a StoreWrapper and its ``around`` hook, whose extra coroutine and lambda per
    operation cost a traced purchase ~26,000 of its ~1.37 million instructions
    (``python bench/tracing_instructions.py``, bench/README.md)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def get(self, key: str) -> Document:
        began = time.time_ns()
        try:
            return await self.inner.get(key)
        except Exception as exc:
            _record("get", key, exc, began)
            raise

    async def insert(self, key: str, value: Json) -> int:
        began = time.time_ns()
        try:
            return await self.inner.insert(key, value)
        except Exception as exc:
            _record("insert", key, exc, began)
            raise

    async def replace(self, key: str, value: Json, cas: int) -> int:
        began = time.time_ns()
        try:
            return await self.inner.replace(key, value, cas)
        except Exception as exc:
            _record("replace", key, exc, began)
            raise

    async def upsert(self, key: str, value: Json) -> int:
        began = time.time_ns()
        try:
            return await self.inner.upsert(key, value)
        except Exception as exc:
            _record("upsert", key, exc, began)
            raise

    async def remove(self, key: str, cas: int) -> None:
        began = time.time_ns()
        try:
            await self.inner.remove(key, cas)
        except Exception as exc:
            _record("remove", key, exc, began)
            raise

    async def close(self) -> None:
        await self.inner.close()


def _record(op: str, key: str, exc: Exception, began: int) -> None:
    """``exc`` as an event on the current span, if it is recording: not when no operation is
    being traced (recovery's idle checks, notify's polls) or the sampler dropped this one."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(f"store.{op}", {
            "abc.key": key, "abc.outcome": outcome_of(exc),
            "abc.duration_us": (time.time_ns() - began) // 1000}, began)


def outcome_of(exc: BaseException) -> str:
    """A failed store operation's outcome as its event says it: ``exists``, ``in doubt``, ...
    (a bug's exception: its type's name)."""
    for error, outcome in _OUTCOMES:
        if isinstance(exc, error):
            return outcome
    return type(exc).__name__
