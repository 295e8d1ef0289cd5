"""What the live and publisher tests share: the gateway's live routes on a real uvicorn server
in the test's event loop (port 0), in front of a real purchase and notify (tests/notify's
``stack``), and SSE clients that read a stream in the background with each event's arrival
time.

A test that needs the whole app (pages, sessions) uses tests/gateway/conftest.py's fixtures;
these tests need only the hub's routes, so they mount just those (and the static files).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from services.api.abc.v1 import notify_pb2_grpc, types_pb2
from services.api.abc.v1 import purchase_pb2 as pb
from services.gateway._hub import LiveHub, LiveSettings
from services.gateway._live import live_routes
from services.gateway._publisher import publisher_routes
from services.gateway._ratelimit import TokenBuckets
from services.journal import MAX_MONEY
from tests.notify._support import Stack

if TYPE_CHECKING:  # the async stubs exist in the generated .pyi only
    from services.api.abc.v1.notify_pb2_grpc import NotifyServiceAsyncStub as NotifyStub
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as PurchaseStub

STATIC = Path(__file__).resolve().parents[2] / "services" / "gateway" / "static"
QUICK = LiveSettings(linger_s=0.3, heartbeat_s=5.0, first_snapshot_s=5.0,
                     backoff_s=(0.05, 0.5))


@dataclass
class Gateway:
    hub: LiveHub
    url: str
    port: int

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A client with no cap on connections (each SSE stream holds one)."""
        return httpx.AsyncClient(base_url=self.url, timeout=10,
                                 limits=httpx.Limits(max_connections=None), **kwargs)


def live_gateway(stack: Stack, settings: LiveSettings = QUICK,
                 limits: TokenBuckets | None = None
                 ) -> contextlib.AbstractAsyncContextManager[Gateway]:
    """The live and publisher routes, served by uvicorn on 127.0.0.1:0 from a hub on
    ``stack``'s notify and purchase."""
    return gateway_on(notify_pb2_grpc.NotifyServiceStub(stack.notify_channel), stack.buy_stub,
                      settings, limits)


@contextlib.asynccontextmanager
async def gateway_on(notify: NotifyStub, purchase: PurchaseStub,
                     settings: LiveSettings = QUICK, limits: TokenBuckets | None = None
                     ) -> AsyncIterator[Gateway]:
    """The live and publisher routes on uvicorn, from a hub on ``notify`` and ``purchase``."""
    hub = LiveHub(lambda: notify, lambda: purchase, settings=settings)
    app = Starlette(routes=[*live_routes(hub), *publisher_routes(hub, limits),
                            Mount("/static", StaticFiles(directory=STATIC))])
    async with serving(app) as port:
        hub.start()
        try:
            yield Gateway(hub, f"http://127.0.0.1:{port}", port)
        finally:
            await hub.close()


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[int]:
    """``app`` on uvicorn in this event loop, on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # NODELAY
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()


@dataclass(frozen=True)
class Event:
    kind: str
    id: str
    data: dict[str, Any]
    at: float  # time.monotonic() when the client read it


@dataclass
class SseClient:
    """One SSE stream read in the background: its status, headers and events."""

    client: httpx.AsyncClient
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    events: list[Event] = field(default_factory=list)
    ended: bool = False
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _opened: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> SseClient:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._opened.wait(), 10)
        return self

    async def _read(self) -> None:
        try:
            async with self.client.stream("GET", self.path, headers=self.headers) as response:
                self.status = response.status_code
                self._opened.set()
                fields: dict[str, str] = {}
                async for line in response.aiter_lines():
                    if line:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                    elif "data" in fields:
                        self.events.append(Event(fields.get("event", "message"),
                                                 fields.get("id", ""),
                                                 json.loads(fields["data"]), time.monotonic()))
                        fields = {}
                        self._changed.set()
                    else:
                        fields = {}
        except httpx.HTTPError:
            pass
        finally:
            self.ended = True
            self._opened.set()
            self._changed.set()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def slots(self) -> list[int]:
        """The slots of the fill events, in arrival order."""
        return [e.data["slot"] for e in self.events if e.kind == "fill"]

    def fill(self, slot: int) -> Event:
        return next(e for e in self.events if e.kind == "fill" and e.data["slot"] == slot)

    async def until(self, check: Callable[[SseClient], bool], timeout_s: float = 5.0,
                    what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while not check(self):
            left = deadline - time.monotonic()
            if self.ended or left <= 0:
                raise AssertionError(f"{'stream ended' if self.ended else 'timed out'} "
                                     f"before: {what}; events {self.kinds()} slots "
                                     f"{self.slots()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def until_slot(self, slot: int, timeout_s: float = 5.0) -> None:
        await self.until(lambda c: slot in c.slots(), timeout_s, f"the fill of slot {slot}")

    async def until_ended(self, timeout_s: float = 5.0) -> None:
        await self.until(lambda c: c.ended, timeout_s, "the stream's end")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def sse(client: httpx.AsyncClient, cid: str = "c1", after: int | None = None,
              last_event_id: int | None = None) -> SseClient:
    """An open stream of ``cid`` (``?after=``, ``Last-Event-ID`` as given)."""
    path = f"/campaigns/{cid}/events" + ("" if after is None else f"?after={after}")
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    return await SseClient(client, path, headers).start()


async def buy_with_ad(stub: PurchaseStub, uid: str = "alice", cid: str = "c1",
                      filler_id: str = "f1") -> types_pb2.FilledSlot:
    """One purchase of ``cid``'s next slot at any price, showing ``uid``'s ``filler_id``."""
    response = await stub.Buy(pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=MAX_MONEY,
                                            filler_id=filler_id, keep_trying=True), timeout=10)
    return response.slot
