"""A batch span processor whose ``on_end`` is a deque append: the SDK's BatchSpanProcessor
(the same ``OTEL_BSP_*`` settings, the same export thread's schedule) costs ~3 us a span at
its end (property reads, a pid check, a lock to wake the thread), and a purchase ends eight.

The export thread sleeps ``OTEL_BSP_SCHEDULE_DELAY`` (5 s by default), or until a full batch
(``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, 512) waits, then exports batch after batch until less
than a full one is left (all of it when the delay ran out). Spans past
``OTEL_BSP_MAX_QUEUE_SIZE`` (2048) waiting are dropped, oldest first, and counted; the first
drop is logged. ``shutdown`` exports what is left, then shuts the exporter down."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from opentelemetry import context as context_api
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from ._current import FLAGS

log = logging.getLogger("abc.tracing")


class SpanBatches(SpanProcessor):
    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        # The SDK's own reading of the OTEL_BSP_* settings, defaults and checks.
        sdk: Any = BatchSpanProcessor
        queue_size: int = sdk._default_max_queue_size()
        delay_ms: float = sdk._default_schedule_delay_millis()
        self._batch: int = sdk._default_max_export_batch_size()
        sdk._validate_arguments(queue_size, delay_ms, self._batch)
        self._delay_s = delay_ms / 1000
        self._queue: deque[ReadableSpan] = deque(maxlen=queue_size)
        self._full = queue_size
        self.dropped = 0
        self._awake = threading.Event()
        self._awakened = False  # set on the event loop, cleared by the thread: no lock per span
        self._stopping = False
        self._export_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="AbcSpanBatches", daemon=True)
        self._thread.start()

    def on_start(self, span: Span, parent_context: context_api.Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        context = span._context  # the ``context`` property's field, without its call
        if context is None or not context[FLAGS] & 1 or self._stopping:
            return  # not sampled (recorded only), or shut down
        queue = self._queue
        if len(queue) == self._full:
            self.dropped += 1
            if self.dropped == 1:
                log.warning("span queue full (%d): dropping the oldest spans", self._full)
        queue.append(span)
        if len(queue) >= self._batch and not self._awakened:
            self._awakened = True
            self._awake.set()

    def _run(self) -> None:
        context_api.attach(context_api.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        while not self._stopping:
            woken = self._awake.wait(self._delay_s)
            self._awake.clear()
            self._awakened = False
            if self._stopping:
                break
            self._export(everything=not woken)
        self._export(everything=True)

    def _export(self, everything: bool) -> None:
        with self._export_lock:
            queue, size = self._queue, self._batch
            while queue and (everything or len(queue) >= size):
                batch = [queue.popleft() for _ in range(min(size, len(queue)))]
                try:
                    self._exporter.export(batch)
                except Exception:
                    log.exception("exporting %d spans failed", len(batch))

    def shutdown(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._awake.set()
        self._thread.join()
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._stopping:
            return False
        self._export(everything=True)
        return True
