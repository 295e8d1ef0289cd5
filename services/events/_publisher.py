"""Best-effort publishing of events: a finished slot (or a head read by the posse) is queued
without waiting, and a background task publishes it. A NATS outage never fails or delays a
purchase: the queue is bounded (the oldest events are dropped, and counted, when it is full),
each publish is bounded by a timeout, and every loss is logged. Consumers recover lost events
by reading the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from nats.errors import Error as NatsError
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from services.api.abc.v1 import events_pb2
from services.journal import Finished
from services.messages import fill_event
from services.runtime import NatsLink, current_context_carrier, current_span

from ._subjects import fill_subject, head_subject

log = logging.getLogger("abc.events")
tracer = trace.get_tracer("abc.events")

PUBLISH_TIMEOUT_S = 1.0


@dataclass(frozen=True, slots=True)
class _Outgoing:
    subject: str
    payload: Callable[[int], bytes]  # built when published, from the clock then
    parent: Span | None  # the span to publish under (ended by then); None: untraced
    slot: int | None = None


class EventPublisher:
    def __init__(self, link: NatsLink | None, publisher: str, clock: Callable[[], int],
                 queue_size: int = 10_000, publish_timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._link = link
        self._timeout_s = publish_timeout_s
        self._publisher = publisher
        self._clock = clock
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0

    def submit(self, finished: Finished) -> None:
        """Queue the fill event of ``finished``; never blocks (the journal calls this)."""
        if self._link is None:
            return
        # The finishing span itself, not a carrier of its context: the publish span is its
        # child, made at once by a lean tracer (no carrier written and parsed again).
        current = current_span()
        parent = current if current.get_span_context().is_valid else None

        def payload(now_ms: int) -> bytes:
            return fill_event(finished, self._publisher, now_ms).SerializeToString()

        self._put(_Outgoing(fill_subject(finished.campaign), payload, parent, finished.slot))

    def submit_head(self, cid: str, head: int) -> None:
        """Queue a head event of ``cid``, read just now; never blocks. Untraced: it belongs to
        no purchase (a root trace for each would flood the backend)."""
        if self._link is None:
            return
        read_at = self._clock()

        def payload(_now_ms: int) -> bytes:
            return events_pb2.HeadEvent(campaign_id=cid, head=head,
                                        read_at_ms=read_at).SerializeToString()

        self._put(_Outgoing(head_subject(cid), payload, None))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-publisher")

    async def stop(self, drain_s: float = 1.0) -> None:
        """Publish what is queued for up to ``drain_s``, then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _put(self, item: _Outgoing) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self._queue.task_done()
            self._drop("queue full")
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await asyncio.wait_for(self._publish(item), self._timeout_s)
                self.published += 1
            except (NatsError, OSError, TimeoutError) as exc:
                self._drop(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    async def _publish(self, item: _Outgoing) -> None:
        assert self._link is not None
        client = self._link.client
        if client is None or not client.is_connected:
            raise ConnectionError("not connected to NATS")
        if item.parent is None:
            await client.publish(item.subject, item.payload(self._clock()))
            return
        with tracer.start_as_current_span(f"{item.subject} publish",
                                          context=trace.set_span_in_context(item.parent),
                                          kind=SpanKind.PRODUCER,
                                          attributes={"messaging.system": "nats",
                                                      "messaging.destination.name": item.subject,
                                                      "abc.slot": item.slot or 0}):
            await client.publish(item.subject, item.payload(self._clock()),
                                 headers=current_context_carrier())

    def _drop(self, why: str) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 100 == 0:
            log.warning("event not published (%s); %d dropped so far - watchers fall back "
                        "to reading the store", why, self.dropped)
