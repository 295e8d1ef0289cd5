"""The parts a service process runs on, put together in one place: the store opened (and
wrapped for tracing), the journal's context with its hooks (spans, the fault switch, the
publisher told of every finished slot), the NATS link and the event publisher."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from services.events import EventPublisher
from services.journal import STEPS, Journal, JournalContext, Policy
from services.runtime import NatsLink, Telemetry, fault_switch
from services.store import DocumentStore, open_store

from ._policy import policy_from_env


@dataclass
class Wiring:
    """store: what the process reads and writes through (traced when telemetry exports);
    link: NATS (None: no URL given); publisher: its fill and head events (best effort; nothing
    goes out without a link); journal: the ops over ``store`` with every hook in place."""

    store: DocumentStore
    link: NatsLink | None
    publisher: EventPublisher
    journal: Journal

    def start(self) -> None:
        """Connect to NATS in the background and start publishing."""
        if self.link is not None:
            self.link.start()
        self.publisher.start()

    async def stop(self) -> None:
        """Publish what is queued, close NATS, then the store (in that order)."""
        await self.publisher.stop()
        if self.link is not None:
            await self.link.close()
        await self.store.close()


async def wire(name: str, store: str | DocumentStore, nats_url: str | None,
               telemetry: Telemetry | None = None, faults: bool = False,
               policy: Policy | None = None) -> Wiring:
    """The parts of process ``name`` (its events' ``publisher``): ``store`` is a URL to open
    or a store already open (tests pass one wrapped to count reads); every slot the journal
    finishes goes out as a fill event; ``faults``: the test-only fault switch may end the process
    after a step (``ABC_FAULT_EXIT_AFTER``; checked before anything is opened); ``policy``:
    the operator's money settings (default: from ``ABC_FEE_BPS`` and the like)."""
    exit_after = fault_switch(STEPS) if faults else None
    policy = policy if policy is not None else policy_from_env()
    opened = await open_store(store) if isinstance(store, str) else store
    link = NatsLink(nats_url) if nats_url else None
    context = JournalContext(policy=policy)
    publisher = EventPublisher(link, name, context.clock)
    context = dataclasses.replace(context, on_finished=publisher.submit)
    if exit_after is not None:
        context = dataclasses.replace(context, on_step=exit_after)
    traced = opened
    if telemetry is not None and telemetry.enabled:
        traced = telemetry.trace_store(opened)
        context = dataclasses.replace(context, span=telemetry.span,
                                      trace_context=telemetry.trace_context)
    return Wiring(traced, link, publisher, Journal(traced, context, take_turns=True))
