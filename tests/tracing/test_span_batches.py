"""``SpanBatches`` batches as the SDK's BatchSpanProcessor does, by the same ``OTEL_BSP_*``
settings: a full batch goes out at once, what is left when the delay runs out, the oldest
spans past the queue's size are dropped, and shutdown exports what is left. Logic only: lean
spans from a real provider, an exporter that keeps what it is sent."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from services.runtime._lean_spans import LeanTracerProvider
from services.runtime._span_batches import SpanBatches
from tests._support.waiting import wait_for

HOUR_MS = "3600000"


class _Kept(SpanExporter):
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.shut = False
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.batches.append([s.name for s in spans])
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut = True

    def sent(self) -> list[list[str]]:
        with self._lock:
            return list(self.batches)


def _provider(monkeypatch: pytest.MonkeyPatch, **settings: str) -> tuple[LeanTracerProvider,
                                                                         SpanBatches, _Kept]:
    for name, value in settings.items():
        monkeypatch.setenv(f"OTEL_BSP_{name}", value)
    kept = _Kept()
    provider = LeanTracerProvider(Resource.create({"service.name": "abc-purchase"}))
    batches = SpanBatches(kept)
    provider.add_span_processor(batches)
    return provider, batches, kept


def _spans(provider: LeanTracerProvider, names: Sequence[str]) -> None:
    tracer = provider.get_tracer("abc")
    for name in names:
        tracer.start_span(name).end()


def test_a_full_batch_goes_out_at_once_the_rest_at_shutdown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    provider, batches, kept = _provider(monkeypatch, SCHEDULE_DELAY=HOUR_MS,
                                        MAX_EXPORT_BATCH_SIZE="3")
    _spans(provider, ["a", "b", "c", "d"])
    assert wait_for(lambda: kept.sent() or None, "a full batch") == [["a", "b", "c"]]
    provider.shutdown()
    assert (kept.sent(), kept.shut) == ([["a", "b", "c"], ["d"]], True)
    _spans(provider, ["late"])
    assert batches.force_flush() is False
    assert kept.sent() == [["a", "b", "c"], ["d"]]


def test_what_waits_goes_out_when_the_delay_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    provider, _, kept = _provider(monkeypatch, SCHEDULE_DELAY="10")
    _spans(provider, ["a", "b"])
    assert wait_for(lambda: kept.sent() or None, "the delay's export") == [["a", "b"]]
    provider.shutdown()


def test_the_oldest_spans_past_the_queue_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    provider, batches, kept = _provider(monkeypatch, SCHEDULE_DELAY=HOUR_MS,
                                        MAX_QUEUE_SIZE="3", MAX_EXPORT_BATCH_SIZE="3")
    batches._awakened = True  # the thread "already woken": it sleeps on, the queue fills
    _spans(provider, ["a", "b", "c", "d", "e"])
    assert batches.dropped == 2
    assert batches.force_flush() is True
    assert kept.sent() == [["c", "d", "e"]]
    provider.shutdown()


def test_spans_the_sampler_only_records_are_not_exported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    provider, _, kept = _provider(monkeypatch, SCHEDULE_DELAY=HOUR_MS)
    _spans(provider, ["dropped"])
    provider.shutdown()
    assert kept.sent() == []
