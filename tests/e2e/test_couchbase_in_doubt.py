"""The journal on the couchbase adapter, the real SDK over TCP to the wire server, with the
store losing replies at the three writes that matter in a purchase:

- the commit point: ``insert slot:c:n``;
- the debit: the second ``replace user:<uid>`` of a buy (the first takes the lock, the second
  clears it with the debit);
- the campaign advance: ``replace campaign:<cid>``.

Each write is hit once, either *applied* with its reply dropped or *lost* (neither applied nor
answered); either way the SDK reports an ambiguous timeout and the adapter ``InDoubt``. Then
recovery runs as in production (the posse's ``check_campaign`` and the buyer's
``resolve_account``), and the quiescent audit must be clean with the buyer charged exactly
once for what it bought (and not at all when its commit was lost and fenced off).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from services.journal import (
    Bought,
    Interrupted,
    Journal,
    JournalContext,
    Receipt,
    Resolution,
    Timing,
    User,
    audit,
    receipt_key,
    user_key,
)
from services.lab.loadgen import World, set_up
from services.store import CouchbaseSettings, CouchbaseStore, NotFound
from tests.couchbase_wire import Rule, WireServer

pytestmark = pytest.mark.asyncio

BALANCE = 10_000
MIN_PRICE = 100
TIMING = Timing(resolve_grace_ms=200, resolve_poll_ms=20, posse_wait_ms=20)


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


def _settings(server: WireServer) -> CouchbaseSettings:
    # durability majority, as in production; the SDK's core waits at least 1.5 s for a
    # durable write, so each lost reply costs that much
    return CouchbaseSettings(f"couchbase://{server.host}:{server.port}", server.bucket.name,
                             server.username, server.password, durability="majority",
                             kv_timeout_s=0.5, kv_durable_timeout_s=0.5, connect_timeout_s=5.0)


@contextlib.asynccontextmanager
async def _journal_and_world(server: WireServer) -> AsyncIterator[tuple[Journal, World]]:
    """A journal on a couchbase store over ``server`` (closed afterwards), and a world in it:
    two users with BALANCE, one campaign at MIN_PRICE; the server's writes so far forgotten."""
    store = await CouchbaseStore(_settings(server)).open()
    try:
        journal = Journal(store, JournalContext(timing=TIMING))
        world = await set_up(journal, users=2, campaigns=1, balance=BALANCE,
                             min_price=MIN_PRICE, slot_seconds=60)
        server.writes.clear()
        yield journal, world
    finally:
        await store.close()


def _arm(server: WireServer, target: str, applied: bool, uid: str, cid: str) -> Rule:
    fault = server.faults.drop_reply_after_apply if applied else server.faults.drop_request
    if target == "slot":
        return fault(op="insert", key_prefix=f"slot:{cid}:")
    if target == "debit":
        return fault(op="replace", key_prefix=user_key(uid), skip=1)  # not the lock's
    if target == "advance":
        return fault(op="replace", key_prefix=f"campaign:{cid}")
    raise AssertionError(target)


async def _recover(journal: Journal, world: World) -> list[Resolution]:
    """What production runs after a failure: the resolver on every account (as its next
    login does), then the posse's check of the campaign."""
    resolutions = [await journal.resolve_account(uid) for uid in world.users]
    for cid in world.campaigns:
        await journal.check_campaign(cid)
    return resolutions


async def _charged(journal: Journal, uid: str, cid: str, slots: int) -> tuple[int, int]:
    """(what ``uid`` paid, the sum of its receipts on slots 1..``slots`` of ``cid``)."""
    user = User.from_json((await journal.store.get(user_key(uid))).value)
    assert user.lock is None
    receipts = 0
    for n in range(1, slots + 1):
        try:
            receipt = Receipt.from_json((await journal.store.get(receipt_key(cid, n))).value)
        except NotFound:
            continue
        if receipt.buyer == uid:
            receipts += receipt.price
    return BALANCE - user.balance, receipts


async def test_the_writes_of_an_uncontended_buy(server: WireServer) -> None:
    """What the faults below aim at: the order of a purchase's writes on the wire."""
    async with _journal_and_world(server) as (journal, world):
        outcome = await journal.buy(world.users[0], world.campaigns[0], max_price=10**9)
    assert isinstance(outcome, Bought)
    assert [(w.op, w.key.rsplit(":", 1)[0] if w.key.startswith(("slot", "txn")) else w.key)
            for w in server.writes] == [
        ("replace", "user:u0001"),  # the intent: lock
        ("insert", "slot:c0001"),  # the commit point
        ("insert", "txn:c0001"),  # the receipt
        ("replace", "user:u0001"),  # the debit, clearing the lock
        ("replace", "campaign:c0001"),  # the advance
    ]
    assert {w.durability for w in server.writes} == {"majority"}


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "lost"])
@pytest.mark.parametrize("target", ["slot", "debit", "advance"])
async def test_an_in_doubt_write_during_a_buy_is_recovered(
    server: WireServer, target: str, applied: bool
) -> None:
    async with _journal_and_world(server) as (journal, world):
        uid, cid = world.users[0], world.campaigns[0]
        rule = _arm(server, target, applied, uid, cid)
        outcome = await journal.buy(uid, cid, max_price=10**9)
        assert rule.fired == 1, f"the fault never hit {target}"
        server.faults.clear()
        if target == "slot" and not applied:
            # the commit never landed: fenced off with a void, nothing charged
            assert isinstance(outcome, Interrupted), outcome
        else:
            assert isinstance(outcome, Bought), outcome
            assert outcome.slot == 1 and outcome.price == MIN_PRICE
        resolutions = await _recover(journal, world)
        # only a lost debit leaves the buyer locked: its resolver finds the slot committed
        # by the lock's attempt and rolls it forward; otherwise the driver settled it all
        buyer = Resolution.ROLLED_FORWARD if (target, applied) == ("debit", False) \
            else Resolution.CLEAN
        assert resolutions == [buyer, Resolution.CLEAN]
        assert await audit(journal.store, quiescent=True) == []
        paid, receipts = await _charged(journal, uid, cid, slots=2)
        expected = 0 if (target == "slot" and not applied) else MIN_PRICE
        assert paid == receipts == expected, "the buyer was not charged exactly once"

        # and the campaign goes on: the next purchase takes the next slot
        again = await journal.buy(world.users[1], cid, max_price=10**9)
        assert isinstance(again, Bought), again
        assert again.slot == 2  # slot 1 holds the purchase, or the void that fenced it
        assert await audit(journal.store, quiescent=True) == []
