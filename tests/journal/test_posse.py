"""The posse's check of one campaign (docs/protocol.md, "Recovery: the posse"): read the campaign,
read ``slot:c:(head+1)``; if it exists, wait about 100 ms (its driver is most likely finishing
it), read the campaign again, and if ``head`` is still behind, finish the slot.
"""

from __future__ import annotations

import pytest

from services.journal import (
    Campaign,
    Check,
    Fill,
    Purchase,
    Receipt,
    Timing,
    User,
    Void,
    campaign_key,
    fee_of,
    receipt_key,
)
from services.store import DocumentStore, MemoryStore

from .conftest import (
    CAMPAIGN,
    FEE_BPS,
    MIN_PRICE,
    OWNER,
    SLOT_SECONDS,
    T0,
    Crash,
    FakeClock,
    Ids,
    Node,
    RecordingStore,
    crash_after,
    market,
    user_of,
    value_of,
)

pytestmark = pytest.mark.asyncio

WAIT = Timing().posse_wait_ms


async def _campaign(store: DocumentStore) -> Campaign:
    return Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value)


async def _stranded() -> MemoryStore:
    """alice (1000) bought slot 1 at T0 and died right after her commit insert."""
    store = MemoryStore()
    await market(Node(store).journal, {"alice": 1000})
    crashed = Node(store, ids=Ids("a"), crash=crash_after("buy.fill"))
    with pytest.raises(Crash):
        await crashed.journal.buy("alice", CAMPAIGN, 1000)
    return store


def _posse(store: DocumentStore, after_ms: int = 5000) -> Node:
    """A recovery replica, ``after_ms`` after the purchase by its own clock."""
    return Node(store, clock=FakeClock(T0 + after_ms), ids=Ids("p"))


async def test_nothing_to_do_when_slot_head_plus_one_is_absent() -> None:
    store = MemoryStore()
    await market(Node(store).journal, {"alice": 1000})
    await Node(store).journal.buy("alice", CAMPAIGN, 1000)
    recorder = RecordingStore(store)
    posse = _posse(recorder)
    check = await posse.journal.check_campaign(CAMPAIGN)
    assert check == Check(CAMPAIGN, 1)
    assert check.repaired is None
    assert check.bought_at is None
    assert posse.clock.sleeps == []  # no wait when there is nothing to wait for
    assert recorder.ops == [("get", "campaign:camp"), ("get", "slot:camp:2")]


@pytest.mark.parametrize(("after_ms", "sleeps"), [
    (0, [WAIT]), (30, [WAIT - 30]), (WAIT - 1, [1]),
    (WAIT, []), (5000, []),  # its driver had its time: no wait
    (-50, [WAIT]),  # the posse's clock behind the driver's: the wait, never more
])
async def test_a_stranded_slot_is_finished_once_its_driver_had_the_wait(after_ms: int,
                                                                        sleeps: list[int]) -> None:
    store = await _stranded()
    posse = _posse(store, after_ms)
    check = await posse.journal.check_campaign(CAMPAIGN)
    assert posse.clock.sleeps == sleeps
    assert check.head == 1
    assert check.repaired is not None
    assert (check.repaired.campaign, check.repaired.slot) == (CAMPAIGN, 1)
    assert isinstance(check.repaired.filled, Fill)
    assert (check.repaired.released, check.repaired.advanced) == (True, True)
    assert check.bought_at == T0  # the purchase's time, not the posse's
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, MIN_PRICE, "a1", fee=fee_of(MIN_PRICE, FEE_BPS)).to_json()
    assert await user_of(store, "alice") == User(900, None)
    assert await _campaign(store) == Campaign(
        OWNER, MIN_PRICE, SLOT_SECONDS, 1, fee_bps=FEE_BPS,
        last=Purchase(1, MIN_PRICE, T0, T0, T0 + SLOT_SECONDS * 1000))
    assert posse.steps == ["finish.receipt", "finish.debit", "finish.advance"]
    assert posse.finished == [check.repaired]  # to publish the fill event


async def test_nothing_is_done_when_the_driver_finishes_during_the_wait() -> None:
    store = await _stranded()
    recorder = RecordingStore(store)
    posse = _posse(recorder, after_ms=30)  # a slot filled 30 ms ago: the driver is busy
    driver = Node(store, ids=Ids("d"))

    async def driver_finishes(sleeps: int) -> None:
        if sleeps == 1:
            finished = await driver.journal.finish_slot(CAMPAIGN, 1)
            assert finished.advanced

    posse.clock.on_sleep = driver_finishes
    assert await posse.journal.check_campaign(CAMPAIGN) == Check(CAMPAIGN, 1)
    assert posse.clock.sleeps == [WAIT - 30]
    assert posse.steps == []
    assert posse.finished == []
    assert recorder.writes == []  # the posse itself wrote nothing
    assert await user_of(store, "alice") == User(900, None)  # debited once


async def test_checking_again_after_a_repair_finds_nothing() -> None:
    store = await _stranded()
    posse = _posse(store)
    await posse.journal.check_campaign(CAMPAIGN)
    assert await posse.journal.check_campaign(CAMPAIGN) == Check(CAMPAIGN, 1)
    assert await user_of(store, "alice") == User(900, None)
    assert await posse.journal.audit(quiescent=True) == []


async def test_a_stranded_void_is_finished_without_a_purchase() -> None:
    store = MemoryStore()
    await market(Node(store).journal, {"alice": 1000})
    driver = Node(store, ids=Ids("a"), crash=crash_after("buy.intent"))
    with pytest.raises(Crash):
        await driver.journal.buy("alice", CAMPAIGN, 1000)
    # A resolver whose grace is over fences alice's attempt, and dies right after.
    fencer = Node(store, ids=Ids("r"), timing=Timing(resolve_grace_ms=0),
                  crash=crash_after("buy.fence"))
    with pytest.raises(Crash):
        await fencer.journal.resolve_account("alice")
    posse = _posse(store)
    check = await posse.journal.check_campaign(CAMPAIGN)
    assert check.repaired is not None
    assert check.repaired.filled == Void("a1", "alice")
    assert (check.repaired.released, check.repaired.advanced) == (True, True)
    assert check.bought_at is None  # a void is no purchase
    assert await _campaign(store) == Campaign(
OWNER, MIN_PRICE, SLOT_SECONDS, 1, fee_bps=FEE_BPS, last=None)
    assert await user_of(store, "alice") == User(1000, None)
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) is None
    assert posse.steps == ["finish.release", "finish.advance"]
    assert await posse.journal.audit(quiescent=True) == []


async def test_finishing_a_slot_twice_changes_nothing_the_second_time() -> None:
    store = await _stranded()
    journal = _posse(store).journal
    first = await journal.finish_slot(CAMPAIGN, 1)
    assert (first.released, first.advanced) == (True, True)
    recorder = RecordingStore(store)
    again = await _posse(recorder).journal.finish_slot(CAMPAIGN, 1)
    assert (again.released, again.advanced) == (False, False)
    assert recorder.writes == [("insert", "txn:camp:1")]  # exists: fine
    assert await user_of(store, "alice") == User(900, None)
    assert (await _campaign(store)).head == 1
