"""The current span, read and made current without the API's layers: ``trace.get_current_span``
and ``context.attach(trace.set_span_in_context(span))`` go through three or four calls each
(a runtime context object, a key lookup helper, a copy through ``set_value``), and a traced
purchase does this some twenty times. Same semantics, on the same ContextVar (the API's
``contextvars_context``, OpenTelemetry's default and only built-in runtime context); with any
other runtime context (``OTEL_PYTHON_CONTEXT``) these fall back to the API's calls."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Final

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.trace.propagation import _SPAN_KEY

log = logging.getLogger("abc.tracing")
_runtime = getattr(context_api, "_RUNTIME_CONTEXT", None)
_VAR: ContextVar[Context] | None = (
    _runtime._current_context if isinstance(_runtime, ContextVarsRuntimeContext) else None)
_INVALID = trace.INVALID_SPAN
_Span = trace.Span
# A SpanContext is a tuple (trace_id, span_id, is_remote, trace_flags, trace_state, is_valid):
# its trace flags read by index, without the property's call, where a purchase reads them
# per span.
FLAGS: Final = 3


def current_span() -> trace.Span:
    """``trace.get_current_span()``."""
    if _VAR is None:
        return trace.get_current_span()
    span = _VAR.get().get(_SPAN_KEY)
    return span if isinstance(span, _Span) else _INVALID


def make_current(span: trace.Span) -> object:
    """``context.attach(trace.set_span_in_context(span))``: a token for ``restore``."""
    if _VAR is None:
        return context_api.attach(trace.set_span_in_context(span))
    return _VAR.set(Context({**_VAR.get(), _SPAN_KEY: span}))


def restore(token: object) -> None:
    """``context.detach(token)``: the context as it was before ``make_current``."""
    if _VAR is None:
        context_api.detach(token)  # type: ignore[arg-type]
        return
    try:
        _VAR.reset(token)  # type: ignore[arg-type]
    except ValueError:  # made in another context (an async generator closed elsewhere)
        log.exception("Failed to detach context")
