"""The live parts' instruments (OpenTelemetry metrics API; no-ops until the process sets a
meter provider): SSE clients connected, the fan-out lag of each write, slow clients dropped,
notify Watches open and resumed."""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("abc.gateway")

sse_clients = _meter.create_up_down_counter(
    "abc.gateway.sse_clients", description="SSE streams open on this gateway process")
fanout_lag = _meter.create_histogram(
    "abc.gateway.fanout_lag", unit="ms",
    description="from a fill's purchase (a void's: notify sending it) to its write to one SSE "
                "client")
dropped_clients = _meter.create_counter(
    "abc.gateway.dropped_clients",
    description="SSE clients dropped because their queue was full (too slow to read)")
watches = _meter.create_up_down_counter(
    "abc.gateway.watches", description="notify Watch streams this process holds (one per "
                                        "campaign being viewed)")
watch_resumes = _meter.create_counter(
    "abc.gateway.watch_resumes",
    description="notify Watches resumed after breaking (resume_after_slot = last slot seen)")
