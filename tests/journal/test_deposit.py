"""``deposit`` (docs/protocol.md, "deposit"): intent (lock with the amount and deposit id), commit
(insert ``deposit:<uid>:<id>`` naming the attempt), effects (clear the lock with the credit).
A deposit id is applied at most once; an in-doubt commit rolls forward (the lock holds the
whole intent, and nothing but a replay of the same id competes for the key).
"""

from __future__ import annotations

import pytest

from services.journal import (
    MAX_MONEY,
    AlreadyExists,
    Deposited,
    DepositRecord,
    DuplicateDeposit,
    InvalidInput,
    User,
    deposit_key,
)
from services.store import MemoryStore

from .conftest import (
    T0,
    Crash,
    FakeClock,
    Ids,
    Node,
    RecordingStore,
    crash_after,
    open_account,
    user_of,
    value_of,
)

pytestmark = pytest.mark.asyncio

D1 = deposit_key("alice", "d1")


async def _alice() -> tuple[MemoryStore, RecordingStore]:
    """alice with balance 0; and a recorder over the same store."""
    store = MemoryStore()
    await open_account(Node(store).journal, "alice")
    return store, RecordingStore(store)


async def test_a_deposit_credits_the_account_and_records_its_id() -> None:
    store, _ = await _alice()
    node = Node(store, ids=Ids("a"))
    assert await node.journal.deposit("alice", "d1", 500) == Deposited(500, 500)
    assert await user_of(store, "alice") == User(500, None)
    assert await value_of(store, D1) == DepositRecord("alice", "a1", 500, T0).to_json()
    assert node.steps == ["deposit.intent", "deposit.commit", "deposit.credit"]
    assert await node.journal.deposit("alice", "d2", 250) == Deposited(250, 750)


async def test_a_replayed_deposit_id_is_a_duplicate_and_changes_nothing() -> None:
    store, recorder = await _alice()
    await Node(store, ids=Ids("a")).journal.deposit("alice", "d1", 500)
    replay = Node(recorder, ids=Ids("b")).journal
    assert await replay.deposit("alice", "d1", 500) == DuplicateDeposit("d1")
    # Another amount under the same id is another deposit, refused: the id is used.
    assert await replay.deposit("alice", "d1", 7) == AlreadyExists("deposit", "d1")
    assert recorder.writes == []
    assert await user_of(store, "alice") == User(500, None)
    assert await value_of(store, D1) == DepositRecord("alice", "a1", 500, T0).to_json()


async def test_a_deposit_id_is_per_account() -> None:
    store, _ = await _alice()
    journal = Node(store).journal
    await open_account(journal, "bob")
    assert await journal.deposit("alice", "d1", 500) == Deposited(500, 500)
    assert await journal.deposit("bob", "d1", 300) == Deposited(300, 300)


async def test_the_balance_may_reach_but_not_pass_max_money() -> None:
    store, recorder = await _alice()
    journal = Node(recorder).journal
    assert await journal.deposit("alice", "d1", MAX_MONEY - 10) == Deposited(
        MAX_MONEY - 10, MAX_MONEY - 10)
    assert await journal.deposit("alice", "d2", 10) == Deposited(10, MAX_MONEY)
    recorder.clear()
    outcome = await journal.deposit("alice", "d3", 1)
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == "amount"
    assert recorder.writes == []
    assert await user_of(store, "alice") == User(MAX_MONEY, None)
    assert await value_of(store, deposit_key("alice", "d3")) is None


@pytest.mark.parametrize("applied", [True, False], ids=["landed", "lost"])
async def test_an_in_doubt_record_insert_rolls_forward_exactly_once(applied: bool) -> None:
    store, recorder = await _alice()
    recorder.in_doubt(D1, applied=applied)
    node = Node(recorder, ids=Ids("a"))
    assert await node.journal.deposit("alice", "d1", 500) == Deposited(500, 500)
    assert await user_of(store, "alice") == User(500, None)
    assert await value_of(store, D1) == DepositRecord("alice", "a1", 500, T0).to_json()
    # Landed: the record is found and credited. Lost: inserted again on its behalf.
    inserts = [op for op in recorder.writes if op == ("insert", D1)]
    assert len(inserts) == (1 if applied else 2)
    assert node.steps.count("deposit.credit") == 1
    assert node.clock.sleeps == []  # no grace: the driver itself rolls forward
    assert await node.journal.deposit("alice", "d1", 500) == DuplicateDeposit("d1")
    assert await user_of(store, "alice") == User(500, None)


async def test_a_record_of_another_attempt_rolls_the_deposit_back() -> None:
    store, recorder = await _alice()

    async def applied_meanwhile() -> None:
        await store.insert(D1, DepositRecord("alice", "x1", 500).to_json())

    recorder.before_insert(D1, applied_meanwhile)
    node = Node(recorder, ids=Ids("a"))
    assert await node.journal.deposit("alice", "d1", 500) == DuplicateDeposit("d1")
    assert await user_of(store, "alice") == User(0, None)
    assert await value_of(store, D1) == DepositRecord("alice", "x1", 500).to_json()
    assert node.steps == ["deposit.intent", "deposit.rollback"]


@pytest.mark.parametrize("step", ["deposit.intent", "deposit.commit"])
async def test_a_replay_after_a_crash_credits_once(step: str) -> None:
    store, _ = await _alice()
    crashed = Node(store, ids=Ids("a"), crash=crash_after(step))
    with pytest.raises(Crash):
        await crashed.journal.deposit("alice", "d1", 500)
    assert (await user_of(store, "alice")).locked_by("a1")
    # The replay resolves the crashed attempt first (rolled forward: after the grace if
    # its record is absent), then finds the id applied.
    replay = Node(store, clock=FakeClock(), ids=Ids("b"))
    assert await replay.journal.deposit("alice", "d1", 500) == DuplicateDeposit("d1")
    assert await user_of(store, "alice") == User(500, None)
    assert await value_of(store, D1) == DepositRecord("alice", "a1", 500, T0).to_json()
    assert replay.ids.issued == []  # no attempt of its own
