"""The purchase processes as the demo's clients see them: one ``grpc.aio`` channel each that
reconnects within half a second of a restart, a pick that avoids a process that just failed,
and the two ways to call: once (``stub``), or until some live process answers (``reliably``,
for calls that are safe to repeat: Deposit by its id, Login, GetAccount)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc

if TYPE_CHECKING:
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as Stub

T = TypeVar("T")

CHANNEL_OPTIONS = (
    # A restarted process is found again within half a second, not after grpc's default
    # backoff of up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)
UNKNOWN_OUTCOME = frozenset({
    # The call may or may not have done its work (the process died, the store failed, the
    # answer never came): a buyer must log in before its next purchase.
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL,
})
AVOID_S = 1.0  # how long a process that failed a call is passed over
RETRY_S = 0.2
RELIABLY_S = 60.0  # how long ``reliably`` keeps trying
CALL_TIMEOUT_S = 15.0


def open_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)


def rejection(exc: grpc.aio.AioRpcError) -> pb.BuyRejection | None:
    """The BuyRejection in a refused Buy's rich status, if any."""
    call: Any = exc  # an AioRpcError has what from_call reads: code, details, trailers
    status: Any = rpc_status.from_call(call)
    for detail in status.details if status is not None else ():
        found = pb.BuyRejection()
        if detail.Unpack(found):
            return found
    return None


class PurchasePool:
    def __init__(self, targets: Sequence[str], seed: int = 0) -> None:
        self.targets = tuple(targets)
        self._channels = {target: open_channel(target) for target in self.targets}
        self._stubs: dict[str, Stub] = {
            target: purchase_pb2_grpc.PurchaseServiceStub(channel)
            for target, channel in self._channels.items()}
        self._avoid_until: dict[str, float] = {}
        self._rng = random.Random(seed)

    def pick(self, rng: random.Random | None = None) -> str:
        """A purchase process at random, among those that have not failed a call lately."""
        now = time.monotonic()
        fine = [t for t in self.targets if self._avoid_until.get(t, 0.0) <= now]
        return (rng or self._rng).choice(fine or self.targets)

    def stub(self, target: str) -> Stub:
        return self._stubs[target]

    def failed(self, target: str) -> None:
        self._avoid_until[target] = time.monotonic() + AVOID_S

    async def reliably(self, call: Callable[[Stub], Awaitable[T]],
                       within_s: float = RELIABLY_S) -> T:
        """``call`` on one process after another until one answers; refusals (NOT_FOUND,
        ALREADY_EXISTS, ...) are raised at once, an outcome still unknown after
        ``within_s`` too."""
        deadline = time.monotonic() + within_s
        while True:
            target = self.pick()
            try:
                return await call(self._stubs[target])
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in UNKNOWN_OUTCOME or time.monotonic() > deadline:
                    raise
                self.failed(target)
            await asyncio.sleep(RETRY_S)

    async def login(self, uid: str, within_s: float = RELIABLY_S) -> str | None:
        """Log ``uid`` in until its account is settled; the resolution's name (CLEAN,
        ROLLED_FORWARD, ...), or None if it was still in doubt after ``within_s``."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            reply: pb.LoginResponse = await self.reliably(
                lambda stub: stub.Login(pb.LoginRequest(user_id=uid), timeout=CALL_TIMEOUT_S),
                within_s)
            if reply.resolution != pb.LoginResponse.STILL_IN_DOUBT:
                return pb.LoginResponse.Resolution.Name(reply.resolution)
            await asyncio.sleep(RETRY_S)
        return None

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(None)
