"""A store operation in doubt shows in the trace: the step that made it fails, its status and
an event naming the operation, the key and the outcome; the steps that settle it follow. The
journal runs in process, wired as a purchase process wires it (services.wiring), on the
memory store with one injected fault; its spans go through the real SDK pipeline (our lean
provider, a span processor) to an in-memory exporter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from services.journal import Interrupted
from services.lab.loadgen import set_up
from services.runtime import Telemetry
from services.runtime._lean_spans import LeanTracerProvider
from services.store import InDoubt, MemoryStore, StoreWrapper
from services.wiring import wire

T = TypeVar("T")
pytestmark = pytest.mark.asyncio


class _InDoubtOnce(StoreWrapper):
    """The first insert of ``key`` gets no answer (and did not happen)."""

    def __init__(self, key: str) -> None:
        super().__init__(MemoryStore())
        self.key: str | None = key

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "insert" and key == self.key:
            self.key = None
            raise InDoubt(key, op, "injected: no answer")
        return await call()


@pytest.fixture
def exported() -> Iterator[tuple[LeanTracerProvider, InMemorySpanExporter]]:
    provider = LeanTracerProvider(Resource.create({"service.name": "abc-purchase"}))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider, exporter
    finally:
        provider.shutdown()


async def test_an_insert_in_doubt_fails_its_step_and_names_itself(
    exported: tuple[LeanTracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = exported
    store = _InDoubtOnce("slot:c0001:1")
    tracer = provider.get_tracer("abc")
    wiring = await wire("purchase", store, None, Telemetry(tracer, enabled=True))
    try:
        world = await set_up(wiring.journal, 1, 1, 1000, min_price=10, slot_seconds=60)
        exporter.clear()
        with tracer.start_as_current_span("Buy", kind=SpanKind.SERVER):
            outcome = await wiring.journal.buy(world.users[0], "c0001", 100)
    finally:
        await wiring.stop()
    assert isinstance(outcome, Interrupted), outcome
    spans = {s.name: s for s in exporter.get_finished_spans()}
    fill = spans["buy.fill"]
    assert fill.status.status_code is StatusCode.ERROR
    assert fill.status.description == "InDoubt: insert slot:c0001:1: injected: no answer"
    store_event, exception = fill.events
    assert (store_event.name, exception.name) == ("store.insert", "exception")
    attributes = dict(store_event.attributes or {})
    assert (attributes["abc.key"], attributes["abc.outcome"]) == ("slot:c0001:1", "in doubt")
    assert isinstance(attributes["abc.duration_us"], int)
    assert fill.start_time is not None and store_event.timestamp >= fill.start_time
    # Settled by the protocol (docs/protocol.md, in doubt: fence, then roll back), in steps of
    # the same call that did not fail.
    for name in ("buy.fence", "buy.rollback"):
        step = spans[name]
        assert step.status.status_code is StatusCode.UNSET, name
        assert step.parent is not None and step.parent.span_id == spans["Buy"].context.span_id
    assert spans["buy.intent"].events == ()  # its replace succeeded: no record of its own
