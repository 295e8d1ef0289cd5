"""A NATS connection that a service can live without: connects in the background, keeps
reconnecting, and logs its state changes (never raising into the caller's work)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

log = logging.getLogger("abc.nats")

CONNECT_TIMEOUT_S = 2.0
RETRY_S = 1.0


class NatsLink:
    """``client`` is the live connection, or None while NATS can't be reached."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._errors = 0
        self._reconnect_listeners: list[Callable[[], None]] = []

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each reconnect, once the client has re-made its
        subscriptions and the server has acknowledged them (a round trip)."""
        self._reconnect_listeners.append(listener)

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_until_up(), name="nats-connect")

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until_connected(), timeout_s)
        return self.connected

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.client is not None:
            with contextlib.suppress(NatsError, OSError):
                await self.client.drain()
            # drain() refuses a client that is reconnecting (NATS down or just gone) and
            # leaves its reconnect task running forever, which can hang the process's exit;
            # close() stops it in any state (and is a no-op after a drain).
            with contextlib.suppress(NatsError, OSError):
                await self.client.close()
            self.client = None

    async def _until_connected(self) -> None:
        while not self.connected:
            await asyncio.sleep(0.02)

    async def _connect_until_up(self) -> None:
        # Runs until the first connection; after that the client reconnects by itself.
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client = await nats.connect(
                    servers=[self.url], connect_timeout=CONNECT_TIMEOUT_S,
                    max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                    disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                    error_cb=self._error)
                log.info("connected to NATS at %s", self.url)
                return
            except (NatsError, OSError, TimeoutError) as exc:
                if attempt == 1 or attempt % 30 == 0:
                    log.warning("NATS at %s unreachable (%s); retrying every %.0f s",
                                self.url, exc or type(exc).__name__, RETRY_S)
                await asyncio.sleep(RETRY_S)

    async def _disconnected(self) -> None:
        log.warning("disconnected from NATS at %s", self.url)

    async def _reconnected(self) -> None:
        log.info("reconnected to NATS at %s", self.url)
        for listener in self._reconnect_listeners:
            listener()

    async def _error(self, exc: Exception) -> None:
        # The client retries forever; say so on the first failure and now and then after.
        self._errors += 1
        if self._errors == 1 or self._errors % 50 == 0:
            log.warning("NATS at %s: %s (%d errors so far; still retrying)", self.url,
                        exc or type(exc).__name__, self._errors)
