"""Best-effort publishing of fill events: a finished slot is queued without waiting, and a
background task publishes it. A NATS outage never fails or delays a purchase: the queue is
bounded (the oldest events are dropped, and counted, when it is full), each publish is bounded
by a timeout, and every loss is logged. Consumers recover lost events by reading the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nats.errors import Error as NatsError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from services.journal import Finished
from services.runtime import NatsLink

from ._convert import fill_event
from ._subjects import fill_subject

log = logging.getLogger("abc.events")
tracer = trace.get_tracer("abc.events")

PUBLISH_TIMEOUT_S = 1.0


class FillPublisher:
    def __init__(self, link: NatsLink | None, publisher: str, clock: Callable[[], int],
                 queue_size: int = 10_000) -> None:
        self._link = link
        self._publisher = publisher
        self._clock = clock
        self._queue: asyncio.Queue[tuple[Finished, dict[str, str]]] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0

    def submit(self, finished: Finished) -> None:
        """Queue the fill event of ``finished``; never blocks (the journal calls this)."""
        if self._link is None:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._drop("queue full")
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the finishing span's context, for the publish span
        self._queue.put_nowait((finished, carrier))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fill-publisher")

    async def stop(self, drain_s: float = 1.0) -> None:
        """Publish what is queued for up to ``drain_s``, then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            finished, carrier = await self._queue.get()
            try:
                await asyncio.wait_for(self._publish(finished, carrier), PUBLISH_TIMEOUT_S)
                self.published += 1
            except (NatsError, OSError, TimeoutError) as exc:
                self._drop(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    async def _publish(self, finished: Finished, carrier: dict[str, str]) -> None:
        assert self._link is not None
        client = self._link.client
        if client is None or not client.is_connected:
            raise ConnectionError("not connected to NATS")
        subject = fill_subject(finished.campaign)
        with tracer.start_as_current_span(f"{subject} publish", context=propagate.extract(carrier),
                                          kind=SpanKind.PRODUCER,
                                          attributes={"messaging.system": "nats",
                                                      "messaging.destination.name": subject,
                                                      "abc.slot": finished.slot}):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            event = fill_event(finished, self._publisher, self._clock())
            await client.publish(subject, event.SerializeToString(), headers=headers)

    def _drop(self, why: str) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 100 == 0:
            log.warning("fill event not published (%s); %d dropped so far - watchers fall back "
                        "to reading the store", why, self.dropped)
