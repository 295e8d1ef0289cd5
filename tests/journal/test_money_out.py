"""Money out (docs/protocol.md, "Money out"): sellers credited their shares in runs keyed by
their first slot, withdrawals taken once per id, the payout state machine, refunds only of
rejected withdrawals; each op's store writes, bad input, and the in-doubt rule. Crashes at
every step are the simulation's (tests/lab/sim)."""

from __future__ import annotations

import pytest

from services.journal import (
    AlreadyExists,
    Campaign,
    Credited,
    CreditRecord,
    InsufficientFunds,
    Interrupted,
    InvalidInput,
    Missing,
    NothingToCredit,
    PayoutState,
    Receipt,
    Refunded,
    Withdrawal,
    WithdrawalRequested,
    WrongState,
    campaign_key,
    credit_key,
    fee_of,
    idempotency_key_of,
    owned_key,
    purchases_key,
    receipt_key,
    refund_key,
    user_key,
    withdrawal_key,
)
from services.store import MemoryStore

from .conftest import (
    CAMPAIGN,
    FEE_BPS,
    MIN_PRICE,
    OWNER,
    Node,
    RecordingStore,
    market,
    user_of,
    value_of,
)

pytestmark = pytest.mark.asyncio


async def _sold(prices: int) -> tuple[Node, RecordingStore]:
    """alice bought ``prices`` slots of the owner's campaign: 100, 200, 400, ..."""
    store = RecordingStore(MemoryStore())
    node = Node(store)
    await market(node.journal, {"alice": 100_000})
    for _ in range(prices):
        node.clock.advance(1)
        await node.journal.buy("alice", CAMPAIGN, 100_000)
    return node, store


def _shares(*prices: int) -> int:
    return sum(price - fee_of(price, FEE_BPS) for price in prices)


async def test_a_credit_adds_the_run_of_shares_to_the_owner_in_one_op() -> None:
    node, store = await _sold(3)
    store.clear()
    node.steps.clear()
    outcome = await node.journal.credit(CAMPAIGN)
    assert outcome == Credited(CAMPAIGN, OWNER, 1, 3, _shares(100, 200, 400),
                               _shares(100, 200, 400))
    assert (await user_of(store, OWNER)).balance == _shares(100, 200, 400)
    assert await value_of(store, credit_key(CAMPAIGN, 1)) == CreditRecord(
        OWNER, "att5", 1, 3, _shares(100, 200, 400), node.clock(), listed=True).to_json()
    assert Campaign.from_json(await value_of(store, campaign_key(CAMPAIGN)) or {}).credited == 3
    assert node.steps == ["credit.list", "credit.intent", "credit.commit", "credit.apply",
                          "credit.advance"]
    # The run's purchases listed under their one buyer (one write), then the op itself.
    assert store.writes == [("insert", purchases_key("alice")),
                            ("replace", user_key(OWNER)), ("insert", credit_key(CAMPAIGN, 1)),
                            ("replace", user_key(OWNER)), ("replace", campaign_key(CAMPAIGN))]
    assert await node.journal.audit(quiescent=True) == []


async def test_the_next_credit_starts_where_the_chain_ends_even_behind_the_hint() -> None:
    node, store = await _sold(2)
    await node.journal.credit(CAMPAIGN)
    node.clock.advance(1)
    await node.journal.buy("alice", CAMPAIGN, 100_000)
    # The hint fell behind (a creditor died after its effect): the chain still says 1..2.
    doc = await store.get(campaign_key(CAMPAIGN))
    await store.replace(campaign_key(CAMPAIGN), {**doc.value, "credited": 0}, doc.cas)
    outcome = await node.journal.credit(CAMPAIGN)
    assert isinstance(outcome, Credited) and (outcome.first, outcome.last) == (3, 3)
    assert await node.journal.credit(CAMPAIGN) == NothingToCredit(CAMPAIGN, 3)
    assert (await user_of(store, OWNER)).balance == _shares(100, 200, 400)
    assert await node.journal.audit(quiescent=True) == []


async def test_the_receipt_carries_the_campaigns_fee_and_old_documents_read_as_fee_0() -> None:
    _node, store = await _sold(1)
    receipt = Receipt.from_json(await value_of(store, receipt_key(CAMPAIGN, 1)) or {})
    assert receipt.fee == fee_of(MIN_PRICE, FEE_BPS) == 2  # 1.5% of 100, rounded up
    assert Receipt.from_json({"buyer": "a", "seller": "b", "price": 7, "attempt": "x"}).fee == 0
    old = {"owner": "o", "min_price": 1, "slot_seconds": 1, "head": 0, "last": None}
    assert (Campaign.from_json(old).fee_bps, Campaign.from_json(old).credited) == (0, 0)


async def test_a_credit_in_doubt_rolls_forward_once() -> None:
    node, store = await _sold(1)
    store.in_doubt(credit_key(CAMPAIGN, 1), applied=False)
    outcome = await node.journal.credit(CAMPAIGN)
    assert isinstance(outcome, Credited)
    assert (await user_of(store, OWNER)).balance == _shares(100)
    assert await node.journal.credit(CAMPAIGN) == NothingToCredit(CAMPAIGN, 1)
    assert await node.journal.audit(quiescent=True) == []


async def test_a_withdrawal_takes_amount_and_fee_once_per_id() -> None:
    node, store = await _sold(2)
    await node.journal.credit(CAMPAIGN)
    earned = _shares(100, 200)
    store.clear()
    outcome = await node.journal.withdraw(OWNER, "w1", 50, "bank 1")
    assert outcome == WithdrawalRequested("w1", 50, 0, earned - 50)
    assert (await user_of(store, OWNER)).balance == earned - 50
    record = Withdrawal.from_json(await value_of(store, withdrawal_key(OWNER, "w1")) or {})
    assert (record.state, record.amount, record.destination, record.tries) == (
        PayoutState.REQUESTED, 50, "bank 1", 1)
    again = await node.journal.withdraw(OWNER, "w1", 50, "bank 1")
    assert again == WithdrawalRequested("w1", 50, 0, None, replay=True)
    assert await node.journal.withdraw(OWNER, "w1", 51, "bank 1") == AlreadyExists(
        "withdrawal", "w1")
    assert await node.journal.withdraw(OWNER, "w1", 50, "bank 2") == AlreadyExists(
        "withdrawal", "w1")
    assert (await user_of(store, OWNER)).balance == earned - 50
    assert await node.journal.audit(quiescent=True) == []


async def test_a_withdrawal_first_credits_the_users_own_pending_shares() -> None:
    node, _store = await _sold(1)
    assert await node.journal.withdraw(OWNER, "w1", _shares(100), "bank") == \
        WithdrawalRequested("w1", _shares(100), 0, 0)
    assert await node.journal.withdraw(OWNER, "w2", 1, "bank", credit_first=False) == \
        InsufficientFunds(0, 1)


@pytest.mark.parametrize(("amount", "destination", "field"), [
    (0, "bank", "amount"), (-5, "bank", "amount"), (10**15 + 1, "bank", "amount"),
    (1.5, "bank", "amount"), (True, "bank", "amount"), (5, "", "destination"),
    (5, "x" * 257, "destination"), (5, "bank\n1", "destination"), (5, "bank\x00", "destination"),
])
async def test_bad_withdrawal_input_is_refused_with_nothing_written(
        amount: int, destination: str, field: str) -> None:
    node, store = await _sold(1)
    store.clear()
    outcome = await node.journal.withdraw("alice", "w1", amount, destination,
                                          credit_first=False)
    assert isinstance(outcome, InvalidInput) and outcome.field == field
    assert store.writes == []


async def test_an_unknown_user_or_a_withdrawal_above_the_balance_writes_nothing() -> None:
    node, store = await _sold(1)
    store.clear()
    assert await node.journal.withdraw("nobody", "w1", 5, "bank") == Missing("user", "nobody")
    balance = (await user_of(store, "alice")).balance
    assert await node.journal.withdraw("alice", "w1", balance + 1, "bank") == \
        InsufficientFunds(balance, balance + 1)
    assert store.writes == []


async def test_the_payout_moves_only_as_the_state_machine_allows() -> None:
    node, _ = await _sold(1)
    j = node.journal
    await j.withdraw("alice", "w1", 10, "bank")
    claimed = await j.move_payout("alice", "w1", PayoutState.PAYING, payer="p1", claimed_at=5)
    assert isinstance(claimed, Withdrawal) and (claimed.payer, claimed.claimed_at) == ("p1", 5)
    assert await j.reject("alice", "w1", "no") == WrongState("w1", "paying",
                                                             ("requested", "failed"))
    failed = await j.move_payout("alice", "w1", PayoutState.FAILED, 1, reason="refused")
    assert isinstance(failed, Withdrawal) and failed.state is PayoutState.FAILED
    assert await j.move_payout("alice", "w1", PayoutState.PAID, 1, reference="r") == \
        WrongState("w1", "failed", ("paying",))
    retried = await j.move_payout("alice", "w1", PayoutState.REQUESTED)
    assert isinstance(retried, Withdrawal) and retried.tries == 2
    assert idempotency_key_of("alice", "w1", retried.tries) == "alice:w1:2"
    assert idempotency_key_of("alice", "w1") == "alice:w1"
    await j.move_payout("alice", "w1", PayoutState.PAYING, payer="p2", claimed_at=9)
    # An answer about the first try never moves the second.
    stale = await j.move_payout("alice", "w1", PayoutState.PAID, 1, reference="old")
    assert isinstance(stale, WrongState)
    paid = await j.move_payout("alice", "w1", PayoutState.PAID, 2, reference="r2")
    assert isinstance(paid, Withdrawal) and paid.reference == "r2"
    again = await j.move_payout("alice", "w1", PayoutState.PAID, 2, reference="r2")
    assert again == paid  # idempotent
    assert await j.refund("alice", "w1") == WrongState("w1", "paid", ("rejected",))
    assert await j.move_payout("alice", "nope", PayoutState.PAYING) == Missing(
        "withdrawal", "nope")
    assert await j.audit(quiescent=True) == []


async def test_a_rejected_withdrawal_is_refunded_once() -> None:
    node, store = await _sold(1)
    j = node.journal
    before = (await user_of(store, "alice")).balance
    await j.withdraw("alice", "w1", 10, "bank")
    assert await j.reject("alice", "w1", "suspicious") == Refunded("w1", 10, before)
    assert await j.refund("alice", "w1") == Refunded("w1", 10, None)
    assert (await user_of(store, "alice")).balance == before
    record = Withdrawal.from_json(await value_of(store, withdrawal_key("alice", "w1")) or {})
    assert (record.state, record.reason) == (PayoutState.REFUNDED, "suspicious")
    assert await value_of(store, refund_key("alice", "w1")) is not None
    assert await j.audit(quiescent=True) == []


async def test_a_refund_committed_but_not_closed_is_closed_by_the_next_one() -> None:
    node, store = await _sold(1)
    j = node.journal
    await j.withdraw("alice", "w1", 10, "bank")
    await j.move_payout("alice", "w1", PayoutState.REJECTED, reason="no")
    store.in_doubt(refund_key("alice", "w1"), applied=True)
    await j.refund("alice", "w1")
    assert await j.refund("alice", "w1") == Refunded("w1", 10, None)
    record = Withdrawal.from_json(await value_of(store, withdrawal_key("alice", "w1")) or {})
    assert record.state is PayoutState.REFUNDED
    assert await j.audit(quiescent=True) == []


async def test_the_statement_lists_deposits_credits_withdrawals_refunds_newest_first() -> None:
    node, store = await _sold(2)
    j = node.journal
    node.clock.advance(10)
    await j.deposit(OWNER, "d1", 1000)
    node.clock.advance(10)
    await j.withdraw(OWNER, "w1", 1030, "bank")  # more than the deposit: credits 1..2 first
    node.clock.advance(10)
    await j.withdraw(OWNER, "w2", 20, "bank", credit_first=False)
    await j.reject(OWNER, "w2", "no")
    lines = await j.statement(OWNER)
    assert isinstance(lines, list)
    assert [(e.kind, e.ident, e.amount, e.detail) for e in lines] == [
        ("withdrawal", "w2", -20, "refunded"), ("refund", "w2", 20, ""),
        ("withdrawal", "w1", -1030, "requested"),
        ("credit", f"{CAMPAIGN}:1-2", _shares(100, 200), ""),
        ("deposit", "d1", 1000, "")]
    assert sum(e.amount for e in lines) == (await user_of(store, OWNER)).balance
    assert await j.statement("nobody") == Missing("user", "nobody")


async def test_the_books_balance_and_say_where_the_money_is() -> None:
    node, _ = await _sold(3)
    j = node.journal
    await j.credit(CAMPAIGN)
    await j.withdraw(OWNER, "w1", 100, "bank")
    found = await j.books()
    assert not isinstance(found, Interrupted)
    assert found.difference == 0
    assert found.deposits == 100_000
    assert found.fees == sum(fee_of(p, FEE_BPS) for p in (100, 200, 400))
    assert found.credited == _shares(100, 200, 400)
    assert found.withdrawals == {"requested": (1, 100)}
    assert found.uncredited == 0


async def test_a_lost_creation_neither_lists_nor_credits_the_campaign_under_its_owner() -> None:
    node, store = await _sold(1)
    j = node.journal
    await j.create_account("mallory")
    store.clear()
    assert await j.create_campaign(CAMPAIGN, "mallory", 1, 60) == AlreadyExists(
        "campaign", CAMPAIGN)
    assert store.writes == []
    # A creator that lost the insert itself (a race) leaves a stray entry: ignored.
    await store.upsert(owned_key("mallory"), {"ids": [CAMPAIGN]})
    await j.credit(CAMPAIGN)
    assert await j.statement("mallory") == []
    assert await j.withdraw("mallory", "w1", 1, "bank") == InsufficientFunds(0, 1)
    assert (await user_of(store, OWNER)).balance == _shares(100)



async def test_a_withdrawal_the_balance_covers_credits_nothing_and_bad_input_writes_nothing(
        ) -> None:
    node, store = await _sold(1)
    j = node.journal
    await j.deposit(OWNER, "d1", 1000)
    store.clear()
    assert await j.withdraw(OWNER, "w0", 5, "bank\n") == InvalidInput(
        "destination", "must be 1 to 256 characters, no control characters")
    assert store.writes == []  # refused: not even the owner's sales were credited
    assert isinstance(await j.withdraw(OWNER, "w1", 10, "bank"), WithdrawalRequested)
    assert ("insert", credit_key(CAMPAIGN, 1)) not in store.writes  # covered: no credit
