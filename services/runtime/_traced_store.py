"""A DocumentStore wrapper that puts a span around every store operation, under the journal
step that made it: the key and the outcome as attributes, *exists* and *cas mismatch* as
events (they are how the protocol learns it lost a race, not failures)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from services.store import CasMismatch, Exists, InDoubt, NotFound, StoreError, StoreWrapper

T = TypeVar("T")
tracer = trace.get_tracer("abc.store")
_EVENTS = {Exists: "exists", CasMismatch: "cas mismatch", NotFound: "not found"}


class TracedStore(StoreWrapper):
    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if not trace.get_current_span().get_span_context().is_valid:
            # Not part of any operation (recovery's idle checks, notify's polls): a root
            # trace per read would flood the backend with one-span traces.
            return await call()
        with _store_span(op, key) as span:
            try:
                result = await call()
            except StoreError as exc:
                _outcome(span, exc)
                raise
            except Exception as exc:
                span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
                raise
            span.set_attribute("abc.outcome", "ok")
            return result


@contextlib.contextmanager
def _store_span(op: str, key: str) -> Iterator[Span]:
    # No status from the exception itself: _outcome decides (a lost race is not an error).
    with tracer.start_as_current_span(f"store.{op}", kind=SpanKind.CLIENT,
                                      record_exception=False, set_status_on_exception=False,
                                      attributes={"db.operation": op, "abc.key": key}) as span:
        yield span


def _outcome(span: Span, exc: StoreError) -> None:
    event = _EVENTS.get(type(exc))
    if event is not None:
        span.add_event(event, {"abc.key": exc.key})
        span.set_attribute("abc.outcome", event)
        return
    span.set_attribute("abc.outcome", "in doubt" if isinstance(exc, InDoubt) else "unavailable")
    span.set_status(StatusCode.ERROR, str(exc))
