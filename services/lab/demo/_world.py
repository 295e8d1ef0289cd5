"""The demo's world, created over gRPC before any chaos: an owner, funded users, one hot
campaign and many quiet ones.

Prices: every purchase queues a slot after the last one and doubles the price, which then
falls back to ``MIN_PRICE`` over the queue. Buyers pay at most ``MAX_PRICE`` (2^6 times the
minimum) and buy only once the price has fallen within it, so a campaign sells a burst of
about seven slots at first and then about one per slot length, each to whoever asks first:
the hot campaign is where nearly every buyer asks at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass

import grpc

from services.api.abc.v1 import purchase_pb2 as pb

from ._errors import DemoError
from ._pool import CALL_TIMEOUT_S, PurchasePool

MIN_PRICE = 10
MAX_PRICE = MIN_PRICE * 2**6
SLOT_SECONDS = 1
OPENING_DEPOSIT = 1_000_000  # far more than a minute of purchases at MAX_PRICE costs
OWNER = "owner"
HOT = "hot"
SETUP_CONCURRENCY = 16


@dataclass(frozen=True)
class World:
    users: tuple[str, ...]
    campaigns: tuple[str, ...]  # the hot one first
    deposits: Mapping[str, int]  # what the demo credited each user, by its own record

    @property
    def hot(self) -> str:
        return self.campaigns[0]


def user_ids(count: int) -> tuple[str, ...]:
    return tuple(f"u{i:03d}" for i in range(1, count + 1))


def campaign_ids(count: int) -> tuple[str, ...]:
    """The hot campaign, then ``count - 1`` quiet ones."""
    return (HOT, *(f"quiet{i:02d}" for i in range(1, count)))


async def create_world(pool: PurchasePool, users: int, campaigns: int) -> World:
    try:
        await _create_account(pool, OWNER)
        uids = user_ids(users)
        credited = await _each(_funded_user(pool, uid) for uid in uids)
        cids = campaign_ids(campaigns)
        await _each(_campaign(pool, cid) for cid in cids)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.ALREADY_EXISTS:
            raise DemoError(f"{exc.details()}: the store already holds a demo world; "
                             "use a fresh --data directory") from exc
        raise DemoError(f"setting up the world failed: {exc.code().name}: "
                         f"{exc.details()}") from exc
    return World(uids, cids, dict(zip(uids, credited, strict=True)))


async def _each(calls: Iterable[Awaitable[int]]) -> list[int]:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def gated(call: Awaitable[int]) -> int:
        async with gate:
            return await call

    return list(await asyncio.gather(*(gated(call) for call in calls)))


async def _create_account(pool: PurchasePool, uid: str) -> int:
    await pool.reliably(lambda stub: stub.CreateAccount(pb.CreateAccountRequest(user_id=uid),
                                                        timeout=CALL_TIMEOUT_S))
    return 0


async def _funded_user(pool: PurchasePool, uid: str) -> int:
    await _create_account(pool, uid)
    request = pb.DepositRequest(user_id=uid, deposit_id="opening", amount=OPENING_DEPOSIT)
    await pool.reliably(lambda stub: stub.Deposit(request, timeout=CALL_TIMEOUT_S))
    return OPENING_DEPOSIT  # applied, or applied before a retry: credited once either way


async def _campaign(pool: PurchasePool, cid: str) -> int:
    request = pb.CreateCampaignRequest(campaign_id=cid, owner_id=OWNER, min_price=MIN_PRICE,
                                       slot_seconds=SLOT_SECONDS)
    await pool.reliably(lambda stub: stub.CreateCampaign(request, timeout=CALL_TIMEOUT_S))
    return 0
