"""Money out in the demo. While the buyers buy (and the chaos kills payers mid-payout), the
owner, whose shares the posse credits as the sales finish, and now and then a buyer withdraw
small amounts over gRPC (RequestWithdrawal, repeated with the same id until it answers). The
recovery replicas' payers pay them through the demo's local payment system (a webhook rail
that pays each Idempotency-Key once and counts every delivery). After the run, settling waits
until every campaign is credited up to its head and every withdrawal is paid; the verdict then
checks that the books balance and that the payment system paid every withdrawal exactly once,
for its amount, under the reference the store recorded."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import PayoutState, Snapshot, idempotency_key_of, read_snapshot
from services.lab.payments import PaymentSystem
from services.store import DocumentStore

from ._pool import CALL_TIMEOUT_S, PurchasePool
from ._world import OWNER, World

WITHDRAW_EVERY_S = 1.5
OWNER_SHARE = 0.6  # of the withdrawals, the owner's (the rest: a random buyer's)
SETTLE_S = 45.0  # a payer's claim killed mid-payout is re-driven after its lease (3 s here)
LOOK_EVERY_S = 0.5


@dataclass(frozen=True)
class Asked:
    uid: str
    wid: str
    amount: int


@dataclass
class Withdrawers:
    pool: PurchasePool
    world: World
    seed: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: list[Asked] = field(default_factory=list)
    unanswered: list[Asked] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    async def run(self) -> None:
        rng = random.Random(f"withdrawals-{self.seed}")
        for n in range(1, 10**6):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), WITHDRAW_EVERY_S)
            if self.stop.is_set():
                return
            uid = OWNER if rng.random() < OWNER_SHARE else rng.choice(self.world.users)
            await self._ask(Asked(uid, f"w{n:04d}", rng.randint(5, 60)))

    async def _ask(self, asked: Asked) -> None:
        request = pb.RequestWithdrawalRequest(user_id=asked.uid, withdrawal_id=asked.wid,
                                              amount=asked.amount, destination="demo bank")
        try:
            await self.pool.reliably(lambda stub: stub.RequestWithdrawal(
                request, timeout=CALL_TIMEOUT_S))
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.FAILED_PRECONDITION:
                self.refused[exc.code().name] += 1  # not enough earned yet: nothing taken
            else:
                self.unanswered.append(asked)  # may or may not have committed
            return
        self.acknowledged.append(asked)


@dataclass
class MoneySettled:
    uncredited: list[str] = field(default_factory=list)  # campaigns credited short of head
    unpaid: list[str] = field(default_factory=list)  # withdrawals not paid yet


async def await_money_settled(store: DocumentStore, settled: MoneySettled) -> None:
    """Until every campaign is credited up to its head and every withdrawal is paid (or
    SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        snap = await read_snapshot(store)
        settled.uncredited = sorted(cid for cid, c in snap.campaigns.items()
                                    if _credited(snap, cid) < c.head)
        settled.unpaid = sorted(f"{uid}:{wid}" for (uid, wid), w in snap.withdrawals.items()
                                if w.state is not PayoutState.PAID)
        if (not settled.uncredited and not settled.unpaid) or time.monotonic() > deadline:
            return
        await asyncio.sleep(LOOK_EVERY_S)


def _credited(snap: Snapshot, cid: str) -> int:
    """The last slot of ``cid``'s chain of credit runs."""
    first = 1
    while (cid, first) in snap.credits:
        first = snap.credits[cid, first].last + 1
    return first - 1


@dataclass
class Payouts:
    """What the payment system did, against the store."""

    withdrawals: int = 0  # in the store
    paid: int = 0
    paid_amount: int = 0
    deliveries: int = 0  # requests the payment system received
    earned: int = 0  # the owner's credited shares
    mismatches: list[str] = field(default_factory=list)


def check_payouts(snap: Snapshot, system: PaymentSystem,
                  withdrawers: Withdrawers) -> Payouts:
    found = Payouts(withdrawals=len(snap.withdrawals), deliveries=sum(system.deliveries.values()),
                    earned=sum(c.amount for c in snap.credits.values() if c.seller == OWNER))
    keys = set()
    for (uid, wid), w in snap.withdrawals.items():
        key = idempotency_key_of(uid, wid, w.tries)
        keys.add(key)
        paid = system.payments.get(key)
        if w.state is PayoutState.PAID and paid == w.reference:
            found.paid += 1
            found.paid_amount += system.paid_amounts[key]
            if system.paid_amounts[key] != w.amount:
                found.mismatches.append(f"{key}: paid {system.paid_amounts[key]}, the "
                                        f"withdrawal is for {w.amount}")
        else:
            found.mismatches.append(f"{key}: the store says {w.state.value} "
                                    f"({w.reference}), the payment system paid {paid}")
    found.mismatches += [f"{key}: paid by the payment system, no such withdrawal"
                         for key in sorted(set(system.payments) - keys)]
    for asked in withdrawers.acknowledged:
        stored = snap.withdrawals.get((asked.uid, asked.wid))
        if stored is None or stored.amount != asked.amount:
            found.mismatches.append(f"acknowledged withdrawal {asked.uid}:{asked.wid} of "
                                    f"{asked.amount}: the store has {stored}")
    return found
