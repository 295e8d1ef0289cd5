"""W3C trace context carriers (``traceparent``, maybe ``tracestate``), written and read
without the propagators' machinery for what Abc itself sends: a purchase keeps its carrier in
its lock and its fill, the fill event carries one to NATS, the gateway sends one with each
call. Anything else (a trace state, baggage, another version, odd spacing, other propagators
configured by ``OTEL_PROPAGATORS``) goes to the propagators, as before."""

from __future__ import annotations

import re
from collections.abc import Mapping

from opentelemetry import baggage, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ._current import current_span

Carrier = dict[str, str]
_W3C = TraceContextTextMapPropagator()
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_DEFAULT_FIELDS = frozenset({"traceparent", "tracestate", "baggage"})  # OTEL_PROPAGATORS' default


def carrier_of(current: SpanContext) -> Carrier | None:
    """``current`` as a W3C carrier, sampled or not (a child of a trace the sampler dropped
    stays dropped downstream), as the W3C propagator writes it; None if it is not valid."""
    if not current.is_valid:
        return None
    carrier = {"traceparent": f"00-{current.trace_id:032x}-{current.span_id:016x}-"
                              f"{current.trace_flags:02x}"}
    if current.trace_state:
        carrier["tracestate"] = current.trace_state.to_header()
    return carrier


def _parsed(traceparent: str) -> SpanContext | None:
    """A version-00 ``traceparent`` as exactly written (else None: not ours to judge)."""
    found = _TRACEPARENT.fullmatch(traceparent)
    if found is None:
        return None
    return SpanContext(int(found[1], 16), int(found[2], 16), is_remote=True,
                       trace_flags=TraceFlags(int(found[3], 16)))


def span_context_of(carrier: Mapping[str, str]) -> SpanContext | None:
    """The span context a W3C carrier names (None if it names none)."""
    ctx = _parsed(carrier.get("traceparent", "")) if len(carrier) == 1 else None
    if ctx is None:
        ctx = trace.get_current_span(_W3C.extract(carrier)).get_span_context()
    return ctx if ctx.is_valid else None


_ROOT = Context()
_checked: list[tuple[object, bool]] = []  # the global propagator: are its fields the default?


def _default_propagators() -> bool:
    textmap = propagate.get_global_textmap()
    if not _checked or _checked[0][0] is not textmap:  # its fields take a while to compute
        _checked[:] = [(textmap, textmap.fields == _DEFAULT_FIELDS)]
    return _checked[0][1]


def context_of(carrier: Mapping[str, str]) -> Context:
    """``propagate.extract(carrier)``: the context a call or a message continues. With the
    default propagators, a carrier with no trace context is a root at once, and one with a
    lone version-00 ``traceparent`` is read here."""
    if (_default_propagators() and "tracestate" not in carrier
            and "baggage" not in carrier):
        traceparent = carrier.get("traceparent")
        if traceparent is None:
            return _ROOT
        ctx = _parsed(traceparent)
        if ctx is not None and ctx.is_valid:
            return trace.set_span_in_context(trace.NonRecordingSpan(ctx), _ROOT)
    return propagate.extract(carrier)


def current_context_carrier() -> Carrier:
    """``propagate.inject`` into a new carrier: the current span's context, sampled or not
    (empty when there is none), for a message or a call to continue."""
    if _default_propagators() and not baggage.get_all():
        return carrier_of(current_span().get_span_context()) or {}
    carrier: Carrier = {}
    propagate.inject(carrier)
    return carrier
