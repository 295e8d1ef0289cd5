"""The account resolver (docs/protocol.md, "The resolver"), run by login, by a new op on a locked
account and by recovery. It reads the commit key of the op named in the lock:

- committed by this attempt: roll forward (run the effects);
- committed by another attempt, or void: roll back (clear the lock, balance unchanged);
- absent: wait, polling, while the lock is young *as seen by this resolver's own clock since
  it first saw the lock* (the grace); then settle by the op's rule for an absent commit
  (a purchase is fenced with a void; a deposit is rolled forward).

Locked states are made by running the real code and killing it right after a chosen step.
"""

from __future__ import annotations

import pytest

from services.journal import (
    BuyLock,
    Campaign,
    Deposited,
    DepositLock,
    DepositRecord,
    Fill,
    InvalidInput,
    Missing,
    Receipt,
    Resolution,
    Timing,
    User,
    Void,
    campaign_key,
    deposit_key,
    fee_of,
    receipt_key,
    slot_key,
)
from services.store import DocumentStore, MemoryStore

from .conftest import (
    CAMPAIGN,
    FEE_BPS,
    OWNER,
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

GRACE = Timing().resolve_grace_ms
POLL = Timing().resolve_poll_ms
WAITS = [POLL] * (GRACE // POLL)
"""The sleeps of a resolver that waits out the whole grace."""


async def _head(store: DocumentStore) -> int:
    return Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value).head


async def _world() -> MemoryStore:
    """alice and bob hold 1000 each; seller's campaign has min price 100."""
    store = MemoryStore()
    await market(Node(store).journal, {"alice": 1000, "bob": 1000})
    return store


async def _crash(store: DocumentStore, step: str) -> str:
    """Run alice's op (a buy for a ``buy.``/``finish.`` step, else a deposit of 500 as
    ``d2``) and kill it right after ``step``; the attempt id it held."""
    node = Node(store, ids=Ids("a"), crash=crash_after(step))
    with pytest.raises(Crash):
        if step.startswith("deposit."):
            await node.journal.deposit("alice", "d2", 500)
        else:
            await node.journal.buy("alice", CAMPAIGN, 1000)
    assert node.ids.issued == ["a1"]
    return "a1"


def _resolver(store: DocumentStore, start: int = T0) -> Node:
    """Another process, with a clock of its own."""
    return Node(store, clock=FakeClock(start), ids=Ids("r"))


async def test_an_unlocked_account_is_clean_and_untouched() -> None:
    store = RecordingStore(await _world())
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.CLEAN
    assert store.writes == []
    assert resolver.clock.sleeps == []


async def test_a_lock_whose_slot_we_filled_is_rolled_forward_at_once() -> None:
    store = await _world()
    attempt = await _crash(store, "buy.fill")
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_FORWARD
    assert resolver.clock.sleeps == []
    assert await user_of(store, "alice") == User(900, None)  # debited once
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, 100, attempt, fee=fee_of(100, FEE_BPS)).to_json()
    assert await _head(store) == 1
    assert resolver.steps == ["finish.receipt", "finish.debit", "finish.advance"]


async def test_a_lock_whose_slot_another_attempt_filled_is_rolled_back() -> None:
    store = await _world()
    await _crash(store, "buy.intent")  # alice's lock names slot 1
    await Node(store, ids=Ids("b")).journal.buy("bob", CAMPAIGN, 1000)  # bob got slot 1
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_BACK
    assert resolver.clock.sleeps == []
    assert await user_of(store, "alice") == User(1000, None)
    assert await user_of(store, "bob") == User(900, None)  # not charged twice
    assert await _head(store) == 1


async def test_a_lock_with_no_commit_is_fenced_after_the_grace() -> None:
    store = await _world()
    attempt = await _crash(store, "buy.intent")
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_BACK
    assert resolver.clock.sleeps == WAITS  # polled the whole grace...
    assert resolver.clock.now == T0 + GRACE  # ...on its own clock
    assert await value_of(store, slot_key(CAMPAIGN, 1)) == Void(attempt, "alice").to_json()
    assert await user_of(store, "alice") == User(1000, None)
    assert await _head(store) == 1  # the void is finished: head passed it
    assert resolver.steps == ["buy.fence", "buy.rollback", "finish.release", "finish.advance"]


async def test_the_grace_runs_from_when_this_resolver_first_saw_the_lock() -> None:
    # The lock says it was bought an hour before this resolver's clock: the resolver takes
    # no time from a document, so it still waits out its full grace.
    store = await _world()
    await _crash(store, "buy.intent")
    resolver = _resolver(store, start=T0 + 3_600_000)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_BACK
    assert resolver.clock.sleeps == WAITS


async def test_a_commit_that_appears_during_the_wait_is_rolled_forward() -> None:
    store = await _world()
    await _crash(store, "buy.intent")
    lock = (await user_of(store, "alice")).lock
    assert isinstance(lock, BuyLock)
    resolver = _resolver(store)

    async def late_fill(sleeps: int) -> None:
        if sleeps == 3:  # the driver's commit insert lands at last
            await store.insert(slot_key(CAMPAIGN, 1), Fill.of("alice", lock).to_json())

    resolver.clock.on_sleep = late_fill
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_FORWARD
    assert resolver.clock.sleeps == [POLL] * 3
    assert await user_of(store, "alice") == User(900, None)
    assert await value_of(store, receipt_key(CAMPAIGN, 1)) == Receipt(
        "alice", OWNER, 100, lock.attempt, fee=fee_of(100, FEE_BPS)).to_json()
    assert await _head(store) == 1


async def test_a_lock_settled_by_someone_else_during_the_wait_is_resolved_elsewhere() -> None:
    store = await _world()
    attempt = await _crash(store, "buy.intent")
    resolver = _resolver(store)
    # Another resolver whose grace is already over (it has watched this lock longer).
    other = Node(store, ids=Ids("o"), timing=Timing(resolve_grace_ms=0))

    async def other_settles(sleeps: int) -> None:
        if sleeps == 1:
            assert await other.journal.resolve_account("alice") == Resolution.ROLLED_BACK

    resolver.clock.on_sleep = other_settles
    assert await resolver.journal.resolve_account("alice") == Resolution.RESOLVED_ELSEWHERE
    assert resolver.clock.sleeps == [POLL]
    assert resolver.steps == []  # it wrote nothing
    assert await value_of(store, slot_key(CAMPAIGN, 1)) == Void(attempt, "alice").to_json()
    assert await user_of(store, "alice") == User(1000, None)


async def test_a_deposit_lock_with_no_record_is_rolled_forward_after_the_grace() -> None:
    store = await _world()
    attempt = await _crash(store, "deposit.intent")
    lock = (await user_of(store, "alice")).lock
    assert isinstance(lock, DepositLock)
    assert (lock.attempt, lock.deposit_id, lock.amount) == (attempt, "d2", 500)
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_FORWARD
    assert resolver.clock.sleeps == WAITS
    # The record inserted on its behalf, naming its attempt; credited once.
    assert await value_of(store, deposit_key("alice", "d2")) == DepositRecord(
        "alice", attempt, 500, lock.at).to_json()
    assert await user_of(store, "alice") == User(1500, None)
    assert resolver.steps == ["deposit.commit", "deposit.credit"]


# Crash right after each step, then resolve: what the resolver decides, what the account
# holds after, whether it had to wait out the grace.
CRASHES = {
    "buy.intent": (Resolution.ROLLED_BACK, 1000, True),
    "buy.fill": (Resolution.ROLLED_FORWARD, 900, False),
    "finish.receipt": (Resolution.ROLLED_FORWARD, 900, False),
    "finish.debit": (Resolution.CLEAN, 900, False),  # the lock went with the debit
    "deposit.intent": (Resolution.ROLLED_FORWARD, 1500, True),
    "deposit.commit": (Resolution.ROLLED_FORWARD, 1500, False),
}


@pytest.mark.parametrize("step", CRASHES)
async def test_resolving_twice_is_idempotent(step: str) -> None:
    resolution, balance, waits = CRASHES[step]

    store = await _world()
    await _crash(store, step)
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == resolution
    assert resolver.clock.sleeps == (WAITS if waits else [])
    assert await user_of(store, "alice") == User(balance, None)
    again = RecordingStore(store)
    assert await _resolver(again).journal.resolve_account("alice") == Resolution.CLEAN
    assert again.writes == []
    assert await user_of(store, "alice") == User(balance, None)
    assert await resolver.journal.audit() == []


async def test_login_stamps_the_account_and_resolves_it() -> None:
    store = await _world()
    await _crash(store, "buy.fill")
    node = _resolver(store, start=T0 + 5000)
    assert await node.journal.login("alice") == Resolution.ROLLED_FORWARD
    assert await user_of(store, "alice") == User(900, None, last_login=T0 + 5000)
    assert await node.journal.login("alice") == Resolution.CLEAN


async def test_login_reads_the_account_once_and_the_resolver_starts_from_the_stamp() -> None:
    store = RecordingStore(await _world())
    await _crash(store.inner, "buy.fill")
    assert await _resolver(store, start=T0 + 5000).journal.login("alice") == (
        Resolution.ROLLED_FORWARD)
    # the stamp's read and write; then the resolver settles from the doc as stamped
    assert store.ops[:3] == [("get", "user:alice"), ("replace", "user:alice"),
                             ("get", slot_key(CAMPAIGN, 1))]
    assert store.ops.count(("get", "user:alice")) == 2  # the stamp's, and the debit's
    store.clear()
    assert await _resolver(store, start=T0 + 6000).journal.login("alice") == Resolution.CLEAN
    assert store.ops == [("get", "user:alice"), ("replace", "user:alice")]


async def test_login_of_an_unknown_or_invalid_user() -> None:
    store = RecordingStore(await _world())
    journal = _resolver(store).journal
    assert await journal.login("nobody") == Missing("user", "nobody")
    outcome = await journal.login("a:b")
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == "user"
    assert store.writes == []


async def test_the_next_op_on_a_locked_account_resolves_it_first() -> None:
    store = await _world()
    await _crash(store, "deposit.commit")
    node = _resolver(store)
    # The committed deposit d2 is credited first (no wait: its record is there); then d3.
    assert await node.journal.deposit("alice", "d3", 1) == Deposited(1, 1501)
    assert node.clock.sleeps == []
    assert node.steps == ["deposit.credit", "deposit.intent", "deposit.commit",
                          "deposit.credit"]


async def test_a_lock_fenced_by_a_void_is_rolled_back_at_once() -> None:
    store = await _world()
    attempt = await _crash(store, "buy.intent")
    # A resolver whose grace was over fenced the attempt and died before the rollback.
    fencer = Node(store, ids=Ids("f"), timing=Timing(resolve_grace_ms=0),
                  crash=crash_after("buy.fence"))
    with pytest.raises(Crash):
        await fencer.journal.resolve_account("alice")
    assert await value_of(store, slot_key(CAMPAIGN, 1)) == Void(attempt, "alice").to_json()
    resolver = _resolver(store)
    assert await resolver.journal.resolve_account("alice") == Resolution.ROLLED_BACK
    assert resolver.clock.sleeps == []
    assert await user_of(store, "alice") == User(1000, None)
    assert await _head(store) == 1  # the void finished too
    assert resolver.steps == ["buy.rollback", "finish.release", "finish.advance"]
