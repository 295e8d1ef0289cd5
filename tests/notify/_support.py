"""What the notify tests share: a purchase server and a notify server on port 0 (real gRPC over
TCP, the test's NATS), Watch streams read in the background with the moment each update
arrived, and a store wrapper that counts reads per key. The world to buy in is
``tests._support.world.open_world``.

Tests are ``async def`` tests: the grpc.aio servers and their clients live and die in the
test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import grpc

from services.api.abc.v1 import notify_pb2, notify_pb2_grpc, types_pb2
from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import MAX_MONEY
from services.notify import NotifyConfig, NotifyNode, start_notify
from services.runtime import ServerConfig
from services.store import DocumentStore, StoreWrapper, open_store
from tests._support.waiting import eventually
from tests.purchase._support import Running, purchase_server

if TYPE_CHECKING:  # the async stubs exist in the generated .pyi only
    from services.api.abc.v1.notify_pb2_grpc import NotifyServiceAsyncStub as NotifyStub
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as PurchaseStub

LOCAL = ServerConfig(listen="127.0.0.1:0")
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]  # one TCP connection per channel

T = TypeVar("T")


async def notify_node(url: str, nats_url: str | None, store: DocumentStore | None = None,
                      safety_ms: int = 5000) -> NotifyNode:
    """A notify node on 127.0.0.1:0; with NATS, returned once it is subscribed."""
    node = await start_notify(NotifyConfig(store_url=url, nats_url=nats_url, server=LOCAL,
                                           safety_ms=safety_ms), store=store)
    if nats_url is not None:
        await eventually(lambda: node.hub.events_trusted, 10, "notify subscribed to NATS")
    return node


@dataclass
class Stack:
    """A purchase node and a notify node on one store, with client stubs to both."""

    purchase: Running
    notify: NotifyNode
    notify_channel: grpc.aio.Channel
    url: str

    @property
    def buy_stub(self) -> PurchaseStub:
        return self.purchase.stub

    @property
    def notify_stub(self) -> NotifyStub:
        return notify_pb2_grpc.NotifyServiceStub(self.notify_channel)

    def channel(self) -> grpc.aio.Channel:
        """Another channel (its own TCP connection) to the notify node; the caller closes it."""
        return grpc.aio.insecure_channel(f"127.0.0.1:{self.notify.port}", CHANNEL_OPTIONS)


@contextlib.asynccontextmanager
async def stack(url: str, nats_url: str | None, notify_store: DocumentStore | None = None,
                safety_ms: int = 5000, notify_nats_url: str | None = None
                ) -> AsyncIterator[Stack]:
    """Purchase and notify on ``url``, both on ``nats_url`` (notify on ``notify_nats_url``
    if given)."""
    async with purchase_server(url, nats_url) as running:
        if nats_url is not None:
            assert running.node.wiring.link is not None
            assert await running.node.wiring.link.wait_connected(10)
        node = await notify_node(url, notify_nats_url or nats_url, notify_store, safety_ms)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}",
                                                 CHANNEL_OPTIONS) as channel:
                yield Stack(running, node, channel, url)
        finally:
            await node.stop(grace_s=0.5)


@dataclass(frozen=True)
class Bought:
    slot: types_pb2.FilledSlot  # as the Buy response gave it
    returned: float  # time.monotonic() when Buy returned


async def buy(stub: PurchaseStub, uid: str, cid: str = "c1") -> Bought:
    """One purchase at any price; keeps trying past lost races."""
    while True:
        try:
            response = await stub.Buy(pb.BuyRequest(user_id=uid, campaign_id=cid,
                                                    max_price=MAX_MONEY, keep_trying=True))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.ABORTED:  # lost more races than keep_trying takes
                continue
            raise
        return Bought(response.slot, time.monotonic())


def watch_request(*campaigns: str | tuple[str, int]) -> notify_pb2.WatchRequest:
    """Watch ``campaigns``: ids (new watchers), or (id, resume_after_slot) (resuming)."""
    return notify_pb2.WatchRequest(campaigns=[
        notify_pb2.WatchedCampaign(campaign_id=c[0], resume_after_slot=c[1])
        if isinstance(c, tuple) else notify_pb2.WatchedCampaign(campaign_id=c)
        for c in campaigns])


@dataclass(frozen=True)
class Received:
    update: notify_pb2.WatchUpdate
    at: float  # time.monotonic() when the client read it


@dataclass
class Stream:
    """A Watch call read by a background task: every update with its arrival time."""

    call: grpc.aio.UnaryStreamCall[notify_pb2.WatchRequest, notify_pb2.WatchUpdate]
    received: list[Received] = field(default_factory=list)
    error: grpc.aio.AioRpcError | None = None
    ended: bool = False
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> Stream:
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for update in self.call:
                self.received.append(Received(update, time.monotonic()))
                self._changed.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
        finally:
            self.ended = True
            self._changed.set()

    @property
    def updates(self) -> list[notify_pb2.WatchUpdate]:
        return [r.update for r in self.received]

    def fills(self, cid: str | None = None) -> list[Received]:
        return [r for r in self.received if r.update.HasField("fill")
                and (cid is None or r.update.fill.campaign_id == cid)]

    def slots(self, cid: str | None = None) -> list[int]:
        return [r.update.fill.slot for r in self.fills(cid)]

    async def until(self, check: Callable[[Stream], bool], timeout_s: float = 5.0,
                    what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while not check(self):
            if self.ended:
                raise AssertionError(f"stream ended ({self.error}) before: {what}; "
                                     f"slots {self.slots()}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"not within {timeout_s} s: {what}; slots {self.slots()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def until_slot(self, slot: int, cid: str | None = None,
                         timeout_s: float = 5.0) -> None:
        await self.until(lambda s: slot in s.slots(cid), timeout_s, f"fill of slot {slot}")

    async def close(self) -> None:
        self.call.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


def open_stream(stub: NotifyStub, request: notify_pb2.WatchRequest) -> Stream:
    return Stream(stub.Watch(request)).start()


async def watching(stub: NotifyStub, request: notify_pb2.WatchRequest) -> Stream:
    """A new watcher, returned once it has its snapshot: every fill after that reaches it.
    (A purchase made before notify has loaded the campaign is in the snapshot's head, not
    sent as a fill.)"""
    stream = open_stream(stub, request)
    await stream.until(lambda st: len(st.received) >= 1, what="the snapshot")
    assert stream.updates[0].WhichOneof("update") == "snapshot"
    return stream


class Proxy:
    """A TCP proxy on 127.0.0.1 to ``port``, whose connections ``cut()`` drops at once (the
    proxy goes on accepting): a network blip, after which a client reconnects at once."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        await self._server.wait_closed()

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


class KeyCountingStore(StoreWrapper):
    """Passes every operation to ``inner``; counts reads (``get``) per key, whether they
    succeed or raise."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.gets: Counter[str] = Counter()

    def reads(self, cid: str) -> tuple[int, int]:
        """Reads so far of ``campaign:<cid>`` and of ``slot:<cid>:*``."""
        slots = sum(n for key, n in self.gets.items() if key.startswith(f"slot:{cid}:"))
        return self.gets[f"campaign:{cid}"], slots

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "get":
            self.gets[key] += 1
        return await call()


async def counting_store(url: str) -> KeyCountingStore:
    return KeyCountingStore(await open_store(url))


def contiguous(slots: list[int], first: int, last: int) -> bool:
    return slots == list(range(first, last + 1))
