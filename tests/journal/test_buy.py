"""``buy`` (docs/protocol.md, "buy"): intent (lock the buyer with slot n = head + 1 and its price),
commit (insert ``slot:c:n``), finish (receipt, debit, advance).

The commit insert decides: if the key is someone else's, we lost the race (our lock rolled
back, their slot finished for them); if the insert is in doubt, the slot is read and, absent,
fenced with a void naming our attempt, so our late fill can never land.
"""

from __future__ import annotations

import contextlib

import pytest

from services.journal import (
    Bought,
    BuyLock,
    Campaign,
    Fill,
    InsufficientFunds,
    Interrupted,
    LostRace,
    PriceAboveMax,
    Purchase,
    Receipt,
    User,
    Void,
    campaign_key,
    fee_of,
    receipt_key,
    slot_key,
    user_key,
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
    Ids,
    Node,
    RecordingStore,
    crash_after,
    market,
    user_of,
    value_of,
)

pytestmark = pytest.mark.asyncio

SLOT_MS = SLOT_SECONDS * 1000


async def _campaign(store: DocumentStore) -> Campaign:
    return Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value)


async def _world(buyers: dict[str, int]) -> tuple[MemoryStore, RecordingStore]:
    inner = MemoryStore()
    await market(Node(inner).journal, buyers)
    return inner, RecordingStore(inner)


async def test_an_uncontended_buy_costs_two_reads_and_five_writes() -> None:
    _, store = await _world({"alice": 1000})
    assert await Node(store).journal.buy("alice", CAMPAIGN, 1000) == Bought(
        1, MIN_PRICE, "txn:camp:1", T0, T0 + SLOT_MS, 900)
    assert store.ops == [
        ("get", "user:alice"),  # the buyer, unlocked, with its balance
        ("get", "campaign:camp"),  # head and last: slot n and its price
        ("replace", "user:alice"),  # intent: the lock
        ("insert", "slot:camp:1"),  # commit point
        ("insert", "txn:camp:1"),  # finish: the receipt
        ("replace", "user:alice"),  # finish: the lock cleared with the debit
        ("replace", "campaign:camp"),  # finish: head 0 -> 1, last = this purchase
    ]


async def test_a_buy_with_a_filler_also_checks_the_filler_exists() -> None:
    _, store = await _world({"alice": 1000})
    journal = Node(store).journal
    await journal.upload_filler("alice", "ad", "Buy now")
    store.clear()
    outcome = await journal.buy("alice", CAMPAIGN, 1000, filler="ad")
    assert isinstance(outcome, Bought)
    assert store.ops == [
        ("get", "user:alice"),
        ("get", "filler:alice:ad"),
        ("get", "campaign:camp"),
        ("replace", "user:alice"),
        ("insert", "slot:camp:1"),
        ("insert", "txn:camp:1"),
        ("replace", "user:alice"),
        ("replace", "campaign:camp"),
    ]
    slot = await value_of(store, slot_key(CAMPAIGN, 1))
    assert slot is not None and slot["filler"] == "ad"


async def test_bought_writes_slot_receipt_debit_and_head() -> None:
    store, _ = await _world({"alice": 1000})
    node = Node(store, ids=Ids("a"))
    assert await node.journal.buy("alice", CAMPAIGN, 1000) == Bought(
        1, 100, receipt_key(CAMPAIGN, 1), T0, T0 + SLOT_MS, 900)
    assert await value_of(store, slot_key(CAMPAIGN, 1)) == Fill(
        "alice", "a1", 100, None, T0, T0, T0 + SLOT_MS).to_json()
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, 100, "a1", fee=fee_of(100, FEE_BPS)).to_json()
    assert await user_of(store, "alice") == User(900, None)
    assert await _campaign(store) == Campaign(
        OWNER, MIN_PRICE, SLOT_SECONDS, 1, fee_bps=FEE_BPS,
        last=Purchase(1, 100, T0, T0, T0 + SLOT_MS))
    assert node.steps == ["buy.intent", "buy.fill", "finish.receipt", "finish.debit",
                          "finish.advance"]


async def test_the_next_buy_pays_double_and_queues_behind() -> None:
    store, _ = await _world({"alice": 1000})
    node = Node(store)
    await node.journal.buy("alice", CAMPAIGN, 1000)
    node.clock.advance(1000)
    # 2P = 200 at t1, falling to 100 at the slot's end 60 s later: 1 s in, 200 - 100/60.
    assert await node.journal.buy("alice", CAMPAIGN, 1000) == Bought(
        2, 199, "txn:camp:2", T0 + SLOT_MS, T0 + 2 * SLOT_MS, 701)
    assert (await user_of(store, "alice")).balance == 701


async def test_the_second_buy_at_the_same_moment_pays_exactly_double() -> None:
    store, _ = await _world({"alice": 1000})
    journal = Node(store).journal
    await journal.buy("alice", CAMPAIGN, 1000)
    outcome = await journal.buy("alice", CAMPAIGN, 1000)
    assert isinstance(outcome, Bought)
    assert (outcome.slot, outcome.price, outcome.balance) == (2, 200, 700)


async def test_price_above_max_carries_the_price_and_writes_nothing() -> None:
    inner, store = await _world({"alice": 1000})
    await Node(inner).journal.buy("alice", CAMPAIGN, 1000)
    store.clear()
    assert await Node(store).journal.buy("alice", CAMPAIGN, 150) == PriceAboveMax(200, 150)
    assert store.writes == []
    assert (await user_of(store, "alice")).balance == 900


async def test_insufficient_funds_carries_balance_and_price_and_writes_nothing() -> None:
    _, store = await _world({"alice": 99})
    assert await Node(store).journal.buy("alice", CAMPAIGN, 1000) == InsufficientFunds(
        99, 100)
    assert store.writes == []


async def _race_for_slot_1() -> tuple[MemoryStore, RecordingStore]:
    """alice and bob with 1000 each, and a store hook: just before alice's commit insert of
    slot 1, bob's buy commits slot 1 (attempt ``b1``) and dies right after, his lock held and
    his slot not finished. Alice's node is to use the returned recorder."""
    inner = MemoryStore()
    await market(Node(inner).journal, {"alice": 1000, "bob": 1000})
    bob = Node(inner, ids=Ids("b"), crash=crash_after("buy.fill"))

    async def bob_buys() -> None:
        try:
            await bob.journal.buy("bob", CAMPAIGN, 1000)
        except Crash:
            return
        raise AssertionError("bob's buy was meant to die right after its fill")

    store = RecordingStore(inner)
    store.before_insert(slot_key(CAMPAIGN, 1), bob_buys)
    return inner, store


async def test_lost_race_rolls_our_lock_back_and_finishes_the_winners_slot() -> None:
    inner, store = await _race_for_slot_1()
    alice = Node(store, ids=Ids("a"))
    # Slot 1 went for 100 at T0: the next costs 200.
    assert await alice.journal.buy("alice", CAMPAIGN, 1000) == LostRace(1, 200)
    assert await user_of(inner, "alice") == User(1000, None)
    assert alice.steps == ["buy.intent", "buy.rollback", "finish.receipt", "finish.debit",
                           "finish.advance"]
    # Bob's slot was finished by alice's driver: receipt, bob debited, head past it.
    assert await value_of(inner, receipt_key(CAMPAIGN, 1)) == Receipt(
        "bob", OWNER, 100, "b1", fee=fee_of(100, FEE_BPS)).to_json()
    assert await user_of(inner, "bob") == User(900, None)
    campaign = await _campaign(inner)
    assert campaign.head == 1
    assert campaign.last == Purchase(1, 100, T0, T0, T0 + SLOT_MS)
    assert await value_of(inner, slot_key(CAMPAIGN, 2)) is None


async def test_lost_race_with_keep_trying_buys_the_next_slot() -> None:
    inner, store = await _race_for_slot_1()
    alice = Node(store, ids=Ids("a"))
    assert await alice.journal.buy("alice", CAMPAIGN, 1000, keep_trying=True) == Bought(
        2, 200, "txn:camp:2", T0 + SLOT_MS, T0 + 2 * SLOT_MS, 800)
    # Her first attempt (a1) lost slot 1 and was rolled back; a2 bought slot 2.
    fill = await value_of(inner, slot_key(CAMPAIGN, 2))
    assert fill is not None and (fill["buyer"], fill["attempt"]) == ("alice", "a2")
    assert await user_of(inner, "bob") == User(900, None)
    assert (await _campaign(inner)).head == 2


async def test_a_lost_race_reads_neither_our_locked_account_nor_the_campaign_again() -> None:
    inner, store = await _race_for_slot_1()
    assert await Node(store, ids=Ids("a")).journal.buy("alice", CAMPAIGN, 1000) == LostRace(
        1, 200)
    assert store.ops == [
        ("get", "user:alice"),
        ("get", "campaign:camp"),
        ("replace", "user:alice"),  # intent
        ("insert", "slot:camp:1"),  # Exists: bob's
        ("get", "slot:camp:1"),  # whose? (bob's fill, which alice then helps finish)
        ("replace", "user:alice"),  # roll back, from the doc as the intent wrote it
        ("get", "campaign:camp"),  # helping: the fresh campaign (bob's slot not advanced)
        ("insert", "txn:camp:1"),
        ("get", "user:bob"),
        ("replace", "user:bob"),
        ("replace", "campaign:camp"),
        # no read for the LostRace price: the campaign as the helping finish advanced it
    ]
    assert (await _campaign(inner)).head == 1


async def test_keep_trying_stops_when_the_next_price_is_above_max() -> None:
    inner, store = await _race_for_slot_1()
    outcome = await Node(store).journal.buy("alice", CAMPAIGN, 150, keep_trying=True)
    assert outcome == LostRace(1, 200)
    assert await user_of(inner, "alice") == User(1000, None)
    assert (await _campaign(inner)).head == 1


async def test_a_fill_in_doubt_that_landed_is_rolled_forward_once() -> None:
    inner, store = await _world({"alice": 1000})
    store.in_doubt(slot_key(CAMPAIGN, 1), applied=True)
    node = Node(store, ids=Ids("a"))
    outcome = await node.journal.buy("alice", CAMPAIGN, 1000)
    assert isinstance(outcome, Bought)
    assert (outcome.slot, outcome.price, outcome.receipt) == (1, 100, "txn:camp:1")
    assert outcome.balance in (None, 900)  # None: "committed, finished by someone"
    assert await user_of(inner, "alice") == User(900, None)  # debited once
    assert await value_of(inner, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, 100, "a1", fee=fee_of(100, FEE_BPS)).to_json()
    assert (await _campaign(inner)).head == 1
    # The insert's answer was lost, so no "buy.fill"; the slot read back is ours: finished.
    assert node.steps == ["buy.intent", "finish.receipt", "finish.debit", "finish.advance"]


async def test_a_fill_in_doubt_that_did_not_land_is_fenced_with_a_void() -> None:
    inner, store = await _world({"alice": 1000, "bob": 1000})
    await Node(inner).journal.buy("bob", CAMPAIGN, 1000)  # slot 1: last is bob's
    before = await _campaign(inner)
    store.in_doubt(slot_key(CAMPAIGN, 2), applied=False)
    node = Node(store, ids=Ids("a"))
    outcome = await node.journal.buy("alice", CAMPAIGN, 1000)
    # Nobody else bought slot 2: the buyer is told the store failed, not that it lost.
    assert isinstance(outcome, Interrupted) and "nothing was charged" in outcome.detail
    # The fence: slot 2 is a void naming alice's attempt; her late fill can never land.
    assert await value_of(inner, slot_key(CAMPAIGN, 2)) == Void("a1", "alice").to_json()
    assert await user_of(inner, "alice") == User(1000, None)
    assert await value_of(inner, receipt_key(CAMPAIGN, 2)) is None
    after = await _campaign(inner)
    assert after.head == 2  # past the void
    assert after.last == before.last  # a void is no purchase: the price is unchanged
    assert node.steps == ["buy.intent", "buy.fence", "buy.rollback", "finish.release",
                          "finish.advance"]
    # The slot after the void is for sale at the price bob's purchase set.
    assert await Node(inner).journal.buy("alice", CAMPAIGN, 1000) == Bought(
        3, 200, "txn:camp:3", T0 + SLOT_MS, T0 + 2 * SLOT_MS, 800)


async def test_a_buyer_finding_a_stranded_fill_finishes_it_then_reports_the_loss() -> None:
    store, _ = await _world({"alice": 1000, "bob": 1000})
    bob = Node(store, ids=Ids("b"), crash=crash_after("buy.fill"))
    with contextlib.suppress(Crash):
        await bob.journal.buy("bob", CAMPAIGN, 1000)
    # Bob died after committing slot 1: alice's commit insert finds it taken.
    alice = Node(store, ids=Ids("a"))
    assert await alice.journal.buy("alice", CAMPAIGN, 1000) == LostRace(1, 200)
    assert alice.steps == ["buy.intent", "buy.rollback", "finish.receipt", "finish.debit",
                           "finish.advance"]
    assert await user_of(store, "bob") == User(900, None)
    assert await user_of(store, "alice") == User(1000, None)
    assert (await _campaign(store)).head == 1
    # Bought with the next try, at the price bob's purchase set.
    assert await alice.journal.buy("alice", CAMPAIGN, 1000) == Bought(
        2, 200, "txn:camp:2", T0 + SLOT_MS, T0 + 2 * SLOT_MS, 800)


async def test_an_account_with_an_interrupted_buy_is_resolved_before_the_next_buy() -> None:
    store, _ = await _world({"alice": 1000})
    crashed = Node(store, ids=Ids("a"), crash=crash_after("buy.fill"))
    with contextlib.suppress(Crash):
        await crashed.journal.buy("alice", CAMPAIGN, 1000)
    assert (await user_of(store, "alice")).locked_by("a1")
    # The next buy on the account rolls a1 forward first (it committed), then buys slot 2.
    assert await Node(store, ids=Ids("c")).journal.buy("alice", CAMPAIGN, 1000) == Bought(
        2, 200, "txn:camp:2", T0 + SLOT_MS, T0 + 2 * SLOT_MS, 700)
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, 100, "a1", fee=fee_of(100, FEE_BPS)).to_json()


async def test_lock_is_the_price_charged() -> None:
    store, _ = await _world({"alice": 1000})
    crashed = Node(store, ids=Ids("a"), crash=crash_after("buy.intent"))
    with contextlib.suppress(Crash):
        await crashed.journal.buy("alice", CAMPAIGN, 1000)
    user = await value_of(store, user_key("alice"))
    assert user is not None
    assert user["lock"]["op"] == "buy"
    assert (user["lock"]["slot"], user["lock"]["price"]) == (1, 100)
    assert user["balance"] == 1000  # nothing is debited at the intent


async def test_a_late_fill_that_beats_the_fence_is_rolled_forward() -> None:
    # The fill is in doubt and not there when read; it lands just before the fence goes in.
    # The fence then fails ("someone filled it: resolve again") and, the fill being ours, the
    # purchase is rolled forward.
    inner, store = await _world({"alice": 1000})
    key = slot_key(CAMPAIGN, 1)
    node = Node(store, ids=Ids("a"))

    async def lands_late() -> None:
        lock = (await user_of(inner, "alice")).lock
        assert isinstance(lock, BuyLock)
        await inner.insert(key, Fill.of("alice", lock).to_json())

    async def arm_the_late_landing() -> None:  # runs at the first insert of the key
        store.before_insert(key, lands_late)  # ... so this one runs at the second

    store.in_doubt(key, applied=False)
    store.before_insert(key, arm_the_late_landing)
    outcome = await node.journal.buy("alice", CAMPAIGN, 1000)
    assert isinstance(outcome, Bought)
    assert (outcome.slot, outcome.price) == (1, 100)
    assert [op for op in store.writes if op[1] == key] == [("insert", key)] * 2
    assert await value_of(inner, key) == Fill(
        "alice", "a1", 100, None, T0, T0, T0 + SLOT_MS).to_json()
    assert await user_of(inner, "alice") == User(900, None)
    assert (await _campaign(inner)).head == 1
    assert "buy.fence" not in node.steps


async def test_a_debit_that_loses_its_cas_is_retried_while_the_lock_names_us() -> None:
    # A login stamps the account between the intent and the debit: the debit's CAS loses,
    # is re-read and retried (the lock still names this attempt), and keeps the stamp.
    inner, store = await _world({"alice": 1000})

    async def stamp() -> None:
        doc = await inner.get(user_key("alice"))
        await inner.replace(user_key("alice"), {**doc.value, "last_login": 42}, doc.cas)

    store.before_insert(receipt_key(CAMPAIGN, 1), stamp)
    outcome = await Node(store).journal.buy("alice", CAMPAIGN, 1000)
    assert isinstance(outcome, Bought)
    assert outcome.balance == 900
    assert await user_of(inner, "alice") == User(900, None, last_login=42)


async def test_a_slot_finished_by_someone_else_meanwhile_is_debited_once() -> None:
    # Between the driver's commit and its finish, another node (the posse, a login) finishes
    # the slot: the driver's receipt, debit and advance then find the work done.
    inner, store = await _world({"alice": 1000})
    other = Node(inner, ids=Ids("o"))

    async def someone_finishes() -> None:
        finished = await other.journal.finish_slot(CAMPAIGN, 1)
        assert (finished.released, finished.advanced) == (True, True)

    store.before_insert(receipt_key(CAMPAIGN, 1), someone_finishes)
    outcome = await Node(store).journal.buy("alice", CAMPAIGN, 1000)
    assert outcome == Bought(1, 100, "txn:camp:1", T0, T0 + SLOT_MS, None)
    assert await user_of(inner, "alice") == User(900, None)
    assert (await _campaign(inner)).head == 1
    assert await Node(inner).journal.audit(quiescent=True) == []
