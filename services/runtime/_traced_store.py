"""A DocumentStore wrapper that puts a span around every store operation, under the journal
step that made it: the key and the outcome as attributes, *exists* and *cas mismatch* as
events (they are how the protocol learns it lost a race, not failures)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from services.store import CasMismatch, Exists, InDoubt, NotFound, StoreError, StoreWrapper

T = TypeVar("T")
tracer = trace.get_tracer("abc.store")
_EVENTS = {Exists: "exists", CasMismatch: "cas mismatch", NotFound: "not found"}


class TracedStore(StoreWrapper):
    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        parent = trace.get_current_span().get_span_context()
        if not parent.is_valid or not parent.trace_flags.sampled:
            # Not part of any operation (recovery's idle checks, notify's polls: a root trace
            # per read would flood the backend with one-span traces), or part of one the
            # sampler dropped (its children would be dropped too): no span at all.
            return await call()
        # Nothing runs under a store span, so it is never made current: cheaper.
        # No status from the exception itself: _outcome decides (a lost race is no error).
        span = tracer.start_span(f"store.{op}", kind=SpanKind.CLIENT,
                                 attributes={"db.operation": op, "abc.key": key})
        try:
            result = await call()
        except StoreError as exc:
            _outcome(span, exc)
            raise
        except Exception as exc:
            span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
            raise
        else:
            span.set_attribute("abc.outcome", "ok")
            return result
        finally:
            span.end()


def _outcome(span: Span, exc: StoreError) -> None:
    event = _EVENTS.get(type(exc))
    if event is not None:
        span.add_event(event, {"abc.key": exc.key})
        span.set_attribute("abc.outcome", event)
        return
    span.set_attribute("abc.outcome", "in doubt" if isinstance(exc, InDoubt) else "unavailable")
    span.set_status(StatusCode.ERROR, str(exc))
