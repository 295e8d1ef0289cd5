"""Server-Sent Events: a frame's wire form, and the ASGI response that writes one subscriber's
frames to its browser until the browser leaves, the hub drops it, or the hub closes.

A frame is encoded once and the same bytes are queued to every subscriber of a campaign. The
response listens for the client's disconnect itself (an idle stream would otherwise notice
only at its next write). A subscriber dropped while its write is stuck (the client stopped
reading, the socket is full) gets ``DROP_GRACE_S`` to finish it, then the response ends
without completing the body: the server closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._live_metrics import fanout_lag, sse_clients

DROP_GRACE_S = 1.0
RETRY_MS = 1000  # how soon a browser's EventSource reconnects after the stream ends
MEDIA_TYPE = "text/event-stream"
HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE message as written; ``origin_ms`` (wall clock) is when what it reports happened
    (a fill's purchase), for the fan-out lag; None for snapshots and heartbeats."""

    data: bytes
    origin_ms: int | None = None


HEARTBEAT = Frame(b": heartbeat\n\n")  # a comment: proxies see traffic, browsers ignore it


def event_frame(event: str, event_id: int, data: dict[str, Any],
                origin_ms: int | None = None) -> Frame:
    """``event`` with ``id: event_id`` (a slot number) and ``data`` as one line of JSON."""
    payload = json.dumps(data, separators=(",", ":"))  # no newline inside: one data line
    return Frame(f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode(), origin_ms)


class Subscription(Protocol):
    """What the stream reads: the hub's subscriber."""

    async def next(self) -> Frame | None:
        """The next frame; None once the subscriber is closed (dropped or hub closing)."""
        ...

    async def wait_closed(self) -> None: ...


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class EventStream(Response):
    """The response of one SSE client; ``on_close`` runs once, however it ends."""

    def __init__(self, subscription: Subscription, on_close: Callable[[], None]) -> None:
        # As StreamingResponse does: no body attribute, so no content-length header.
        self.status_code, self.media_type, self.background = 200, MEDIA_TYPE, None
        self.init_headers(HEADERS)
        self.subscription = subscription
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": self.raw_headers})
        sse_clients.add(1)
        writer = asyncio.create_task(self._write(send))
        left = asyncio.create_task(_disconnected(receive))
        closed = asyncio.create_task(self.subscription.wait_closed())
        try:
            done, _ = await asyncio.wait({writer, left, closed},
                                         return_when=asyncio.FIRST_COMPLETED)
            if closed in done and writer not in done and left not in done:
                await asyncio.wait({writer, left}, timeout=DROP_GRACE_S,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, left, closed):
                task.cancel()
            await asyncio.gather(writer, left, closed, return_exceptions=True)
            self.on_close()
            sse_clients.add(-1)

    async def _write(self, send: Send) -> None:
        await _body(send, f"retry: {RETRY_MS}\n\n".encode())
        while (frame := await self.subscription.next()) is not None:
            await _body(send, frame.data)
            if frame.origin_ms is not None:
                fanout_lag.record(max(0, wall_ms() - frame.origin_ms))
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        continue
