"""What the property tests of the purchase service share: a server on a loop of its own that
a synchronous hypothesis test drives, and the check of one batch of calls against the
statuses the contract names (a refusal must write nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import Message
from hypothesis import event

from services.api.abc.v1 import purchase_pb2_grpc
from services.lab.loadgen import audit_url
from services.purchase import PurchaseConfig, start_purchase
from services.runtime import ServerConfig
from tests._support.loop import blocking_loop

from ._support import send, writes

if TYPE_CHECKING:
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as Stub

Call = tuple[str, Message]


@dataclass
class ContractServer:
    loop: asyncio.Runner
    stub: Stub
    url: str

    def misanswers(self, batch: Sequence[Call], answers: Collection[grpc.StatusCode]
                   ) -> list[str]:
        """The calls of ``batch`` answered with a status outside ``answers``, or refused
        after writing."""
        return self.loop.run(self._misanswers(batch, answers))

    async def _misanswers(self, batch: Sequence[Call], answers: Collection[grpc.StatusCode]
                          ) -> list[str]:
        wrong = []
        for method, message in batch:
            before = writes(self.url)
            code, details = grpc.StatusCode.OK, ""
            try:
                await send(self.stub, method, message)
            except grpc.aio.AioRpcError as exc:
                code, details = exc.code(), exc.details() or ""
            event(f"{method} {code.name}")  # see --hypothesis-show-statistics
            if code not in answers:
                wrong.append(f"{method}: {code.name} {details!r}")
            elif code is not grpc.StatusCode.OK and writes(self.url) != before:
                wrong.append(f"{method}: {code.name} but it wrote")
        return wrong


@contextmanager
def contract_server(url: str) -> Iterator[ContractServer]:
    """A purchase service on ``url``'s store and one event loop for every example (a
    hypothesis test is synchronous: it drives the loop itself); the quiescent audit is
    asserted clean when the block ends."""
    with blocking_loop() as loop:
        node = loop.run(start_purchase(PurchaseConfig(
            store_url=url, server=ServerConfig(listen="127.0.0.1:0"))))

        async def connect() -> grpc.aio.Channel:
            return grpc.aio.insecure_channel(f"127.0.0.1:{node.port}")

        channel = loop.run(connect())
        try:
            yield ContractServer(loop, purchase_pb2_grpc.PurchaseServiceStub(channel), url)
        finally:
            loop.run(channel.close(None))
            loop.run(node.stop(grace_s=1.0))
        assert loop.run(audit_url(url, quiescent=True)) == []
