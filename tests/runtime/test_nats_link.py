"""NatsLink on a real nats-server: connects in the background, and ``close`` leaves nothing
running whatever state the connection is in (a leftover reconnect task hangs a process's exit)."""

from __future__ import annotations

import asyncio

import pytest

from services.lab.cluster import NatsServer, free_port
from services.runtime import NatsLink

pytestmark = pytest.mark.asyncio


def _others() -> list[asyncio.Task[object]]:
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not current]


async def test_connects_and_closes(nats_server: NatsServer) -> None:
    link = NatsLink(nats_server.url)
    link.start()
    assert await link.wait_connected(5)
    assert link.client is not None and link.connected
    await link.close()
    assert link.client is None and not link.connected
    assert _others() == []


async def test_close_after_nats_went_away_leaves_no_reconnect_task(
        nats_server: NatsServer) -> None:
    link = NatsLink(nats_server.url)
    link.start()
    assert await link.wait_connected(5)
    client = link.client
    assert client is not None
    nats_server.stop()
    while client.is_connected:  # until the client notices and starts reconnecting
        await asyncio.sleep(0.01)
    await link.close()
    assert client.is_closed
    assert _others() == []


async def test_unreachable_nats_never_connects_and_closes_cleanly() -> None:
    link = NatsLink(f"nats://127.0.0.1:{free_port()}")
    link.start()
    assert not await link.wait_connected(0.3)
    await link.close()
    assert link.client is None
    assert _others() == []
