"""A journal whose finished slots are published: the store, the NATS link and the publisher
that the purchase and recovery services both run their journal with."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from services.journal import Journal, Runtime
from services.runtime import NatsLink, Telemetry
from services.store import DocumentStore, open_store

from ._publisher import EventPublisher


@dataclass
class PublishingJournal:
    store: DocumentStore  # as opened (the journal's may be wrapped for tracing)
    link: NatsLink | None  # None: no NATS URL, nothing published
    publisher: EventPublisher
    journal: Journal

    def start(self) -> None:
        """Connect to NATS in the background and start publishing."""
        if self.link is not None:
            self.link.start()
        self.publisher.start()


async def publishing_journal(store_url: str, nats_url: str | None, publisher: str,
                             telemetry: Telemetry | None = None,
                             on_step: Callable[[str], None] | None = None) -> PublishingJournal:
    """Open the store; the journal over it publishes every slot it finishes as ``publisher``
    (traced by ``telemetry``; ``on_step`` observes its steps: the fault switch)."""
    store = await open_store(store_url)
    link = NatsLink(nats_url) if nats_url else None
    runtime = Runtime()
    events = EventPublisher(link, publisher, runtime.clock)
    runtime = dataclasses.replace(runtime, on_finished=events.submit)
    if on_step is not None:
        runtime = dataclasses.replace(runtime, on_step=on_step)
    journal_store = store
    if telemetry is not None:
        journal_store, runtime = telemetry.instrument(store, runtime)
    return PublishingJournal(store, link, events, Journal(journal_store, runtime))
