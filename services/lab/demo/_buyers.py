"""Concurrent buyers over gRPC, spread over the purchase processes.

Each buyer owns a share of the users and follows the hot campaign and a few quiet ones (each
quiet one has ``FANS_PER_QUIET`` followers). It loops: choose a campaign it follows whose price
is within ``MAX_PRICE`` now (the hot one when it is, mostly), else sleep until one is; buy the
next slot for the next of its users with ``keep_trying`` off. All buyers wake for the hot
campaign at the same moment: heavy contention there, little elsewhere.

A Buy that fails without an answer (UNAVAILABLE while a process is dead, a deadline) may or
may not have committed, so that user logs in (which runs the resolver) before its next Buy.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.lab.loadgen import accounts_of

from ._clock import pause, wall_ms
from ._market import PriceBoard
from ._pool import CALL_TIMEOUT_S, UNKNOWN_OUTCOME, PurchasePool, rejection
from ._world import MAX_PRICE, World

FANS_PER_QUIET = 1  # buyers that follow each quiet campaign (every buyer follows the hot one)
HOT_SHARE = 0.8  # when the hot campaign is affordable, how often a buyer goes for it
HOLD_MS = 500  # after a refusal, how long buyers wait for the campaign's next fill at most
HOLD_UNKNOWN_MS = 3000  # the same after a Buy whose outcome is unknown (an unfinished slot?)
MAX_NAP_S = 0.25  # the longest a buyer sleeps before looking at the board again
RATE_WINDOW_S = 5.0
Reason = pb.BuyRejection.Reason


@dataclass(frozen=True)
class Acknowledged:
    """A purchase the purchase service confirmed (a BuyResponse)."""

    user: str
    campaign: str
    slot: int
    price: int


@dataclass
class BuyerTally:
    attempts: int = 0
    lost_races: int = 0
    priced_out: int = 0
    refusals: Counter[str] = field(default_factory=Counter)  # other refusals, by reason
    errors: Counter[str] = field(default_factory=Counter)  # unknown outcomes, by status code
    logins: Counter[str] = field(default_factory=Counter)  # resolutions of the logins after
    acknowledged: list[Acknowledged] = field(default_factory=list)
    unknown_users: set[str] = field(default_factory=set)  # had a Buy whose outcome is unknown
    calls: dict[str, str] = field(default_factory=dict)  # user -> process of its Buy in flight
    _recent: deque[float] = field(default_factory=deque)

    @property
    def bought(self) -> int:
        return len(self.acknowledged)

    def record(self, purchase: Acknowledged) -> None:
        self.acknowledged.append(purchase)
        self._recent.append(time.monotonic())

    def purchases_per_s(self) -> float:
        """Over the last few seconds."""
        horizon = time.monotonic() - RATE_WINDOW_S
        while self._recent and self._recent[0] < horizon:
            self._recent.popleft()
        return len(self._recent) / RATE_WINDOW_S


class Buyers:
    def __init__(self, pool: PurchasePool, world: World, board: PriceBoard, count: int,
                 seed: int) -> None:
        self.pool = pool
        self.world = world
        self.board = board
        self.count = count
        self.seed = seed
        self.tally = BuyerTally()
        self.stop = asyncio.Event()
        self._unsettled: set[str] = set()  # users that must log in before buying again

    async def run(self) -> None:
        """Buy until ``stop`` is set; each buyer finishes the call it is in."""
        users = self.world.users
        async with asyncio.TaskGroup() as group:
            for i in range(self.count):
                group.create_task(self._buyer(accounts_of(i, self.count, users), self._follows(i),
                                              random.Random(self.seed * 7919 + i)))

    def _follows(self, i: int) -> frozenset[str]:
        """The hot campaign and the quiet ones buyer ``i`` is a fan of: quiet campaign ``j``
        has the fans ``j``, ``j + count / FANS_PER_QUIET``, ... (mod count)."""
        step = max(self.count // FANS_PER_QUIET, 1)
        mine = [cid for j, cid in enumerate(self.world.campaigns[1:])
                if any((j + k * step) % self.count == i for k in range(FANS_PER_QUIET))]
        return frozenset([self.world.hot, *mine])

    async def _buyer(self, accounts: Sequence[str], follows: frozenset[str],
                     rng: random.Random) -> None:
        turn = 0
        while not self.stop.is_set():
            cid = self._choose(rng, follows)
            if cid is None:
                await self._nap()
                continue
            uid = accounts[turn % len(accounts)]
            turn += 1
            if uid in self._unsettled and not await self._log_in(uid):
                continue
            await self._buy(uid, cid, rng)

    def _choose(self, rng: random.Random, follows: frozenset[str]) -> str | None:
        affordable = [c for c in self.board.affordable(wall_ms()) if c in follows]
        hot = self.world.hot
        quiet = [c for c in affordable if c != hot]
        if hot in affordable and (not quiet or rng.random() < HOT_SHARE):
            return hot
        return rng.choice(quiet) if quiet else None

    async def _nap(self) -> None:
        now = wall_ms()
        at = self.board.next_affordable(now)
        wait_s = MAX_NAP_S if at is None else min((at - now) / 1000, MAX_NAP_S)
        await pause(self.stop, max(wait_s, 0.01))

    async def _log_in(self, uid: str) -> bool:
        try:
            resolution = await self.pool.login(uid)
        except grpc.aio.AioRpcError as exc:
            self.tally.errors[f"login {exc.code().name}"] += 1
            return False
        if resolution is None:
            return False
        self.tally.logins[resolution] += 1
        self._unsettled.discard(uid)
        return True

    async def _buy(self, uid: str, cid: str, rng: random.Random) -> None:
        target = self.pool.pick(rng)
        request = pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=MAX_PRICE,
                                keep_trying=False)
        self.tally.attempts += 1
        self.tally.calls[uid] = target
        try:
            reply = await self.pool.stub(target).Buy(request, timeout=CALL_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            # The price has moved (or may have): leave the campaign until its fill arrives.
            unknown = exc.code() in UNKNOWN_OUTCOME
            self.board.hold(cid, wall_ms() + (HOLD_UNKNOWN_MS if unknown else HOLD_MS))
            self._refused(uid, target, exc)
            return
        finally:
            self.tally.calls.pop(uid, None)
        self.board.fill(reply.slot)
        self.tally.record(Acknowledged(uid, cid, reply.slot.slot, reply.slot.price))

    def _refused(self, uid: str, target: str, exc: grpc.aio.AioRpcError) -> None:
        tally = self.tally
        if exc.code() in UNKNOWN_OUTCOME:
            tally.errors[exc.code().name] += 1
            tally.unknown_users.add(uid)
            self._unsettled.add(uid)
            self.pool.failed(target)
            return
        found = rejection(exc)
        reason = Reason.REASON_UNSPECIFIED if found is None else found.reason
        if reason == Reason.LOST_RACE:
            tally.lost_races += 1
        elif reason == Reason.PRICE_ABOVE_MAX:
            tally.priced_out += 1
        else:
            if reason == Reason.ACCOUNT_BUSY:
                self._unsettled.add(uid)
            name = Reason.Name(reason) if found is not None else exc.code().name
            tally.refusals[name] += 1
