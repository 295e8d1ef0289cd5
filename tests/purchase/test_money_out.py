"""Money out over real gRPC on a real sqlite store: a withdrawal from request to paid, the
seller's earnings credited on the way out, statements and the operator's books, and every
move of the payout the operator makes (MarkPaid, Reject, Retry)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.lab.loadgen import audit_url
from tests._support.world import open_world, store_url

from ._money import DESTINATION, State, claim, fields, refused_by_rail, request
from ._support import documents, failure_of, purchase_server

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
# The world here: alice with 1000 buys; bob owns campaign c1 (min price 10, fee 1.5%: a sale
# at 10 leaves bob a share of 9 and the operator a fee of 1).


async def test_a_withdrawal_from_request_to_paid(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        s, store = running.stub, running.node.wiring.store
        await open_world(s, owner="bob", funds=1000, min_price=10)
        bought = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10))
        assert bought.balance == 990

        asked = await s.RequestWithdrawal(request("alice", "w1", 100))
        w = asked.withdrawal
        assert (asked.replay, asked.HasField("balance"), asked.balance) == (False, True, 890)
        assert fields(w, "user_id", "withdrawal_id", "amount", "fee", "destination", "state",
                      "tries", "reference", "reason", "payer", "claimed_at_ms") == \
            ("alice", "w1", 100, 0, DESTINATION, State.REQUESTED, 1, "", "", "", 0)
        assert w.requested_at_ms > 0 and w.updated_at_ms == w.requested_at_ms

        # A repeat is answered as the first was, and changes nothing.
        before = await documents(store)
        again = await s.RequestWithdrawal(request("alice", "w1", 100))
        assert (again.replay, again.HasField("balance"), again.withdrawal) == (True, False, w)
        assert await documents(store) == before

        assert await s.GetWithdrawal(pb.GetWithdrawalRequest(user_id="alice",
                                                             withdrawal_id="w1")) == w
        listed = await s.ListWithdrawals(pb.ListWithdrawalsRequest(user_id="alice"))
        assert (list(listed.withdrawals), listed.next_page_token) == ([w], "")

        statement = await s.GetStatement(pb.GetStatementRequest(user_id="alice"))
        assert statement.balance == 890 and statement.next_page_token == ""
        assert [fields(e, "kind", "ident", "amount", "detail") for e in statement.entries] == \
            [("withdrawal", "w1", -100, "requested"), ("deposit", "d1", 1000, "")]
        assert statement.entries[0].at_ms == w.requested_at_ms

        # bob has earned 9 but holds 0: his withdrawal credits his campaign's sales first.
        earned = await s.RequestWithdrawal(request("bob", "b1", 9, "bob's bank"))
        assert (earned.balance, earned.withdrawal.state) == (0, State.REQUESTED)
        bobs = await s.GetStatement(pb.GetStatementRequest(user_id="bob"))
        assert [fields(e, "kind", "ident", "amount") for e in bobs.entries] == \
            [("withdrawal", "b1", -9), ("credit", "c1:1-1", 9)]
        assert bobs.balance == 0

        ledger = await s.GetLedger(pb.GetLedgerRequest())
        assert fields(ledger, "deposits", "balances", "pending", "uncredited", "fees",
                      "credited", "refunded", "withdrawn", "difference", "balanced") == \
            (1000, 890, 0, 0, 1, 9, 0, 109, 0, True)
        assert [fields(t, "state", "count", "total") for t in ledger.withdrawals] == \
            [(State.REQUESTED, 2, 109)]

        # The operator pays it by hand (the manual rail) and says so.
        paid = await s.MarkPaid(pb.MarkPaidRequest(user_id="alice", withdrawal_id="w1",
                                                   reference="bank-ref-0001"))
        assert fields(paid, "state", "reference", "payer", "tries") == \
            (State.PAID, "bank-ref-0001", "operator", 1)
        assert paid.claimed_at_ms >= w.requested_at_ms
        assert paid.updated_at_ms >= paid.claimed_at_ms
        before = await documents(store)
        assert await s.MarkPaid(pb.MarkPaidRequest(
            user_id="alice", withdrawal_id="w1", reference="bank-ref-0001")) == paid
        other = await failure_of(s.MarkPaid(pb.MarkPaidRequest(
            user_id="alice", withdrawal_id="w1", reference="bank-ref-0002")))
        assert other.code() == Code.FAILED_PRECONDITION
        assert "bank-ref-0001" in (other.details() or "")
        assert await documents(store) == before

        ledger = await s.GetLedger(pb.GetLedgerRequest())
        assert [fields(t, "state", "count", "total") for t in ledger.withdrawals] == \
            [(State.REQUESTED, 1, 9), (State.PAID, 1, 100)]
        assert ledger.balanced
        alice = await s.GetStatement(pb.GetStatementRequest(user_id="alice"))
        assert alice.entries[0].detail == "paid"
    assert await audit_url(url, quiescent=True) == []


async def test_the_operators_fee_leaves_with_the_amount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABC_WITHDRAWAL_FEE", "5")
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        s = running.stub
        await open_world(s, owner="bob", funds=1000, min_price=10)
        asked = await s.RequestWithdrawal(request("alice", "w1", 995))
        assert fields(asked.withdrawal, "amount", "fee") == (995, 5)
        assert asked.balance == 0
        statement = await s.GetStatement(pb.GetStatementRequest(user_id="alice"))
        assert statement.entries[0].amount == -1000

        refunded = await s.Reject(pb.RejectRequest(user_id="alice", withdrawal_id="w1",
                                                   reason="destination closed"))
        assert refunded.state == State.REFUNDED
        statement = await s.GetStatement(pb.GetStatementRequest(user_id="alice"))
        assert [fields(e, "kind", "amount") for e in statement.entries[:2]] == \
            [("refund", 1000), ("withdrawal", -1000)]
        assert statement.balance == 1000
        ledger = await s.GetLedger(pb.GetLedgerRequest())
        assert (ledger.refunded, ledger.withdrawn, ledger.balanced) == (1000, 0, True)
    assert await audit_url(url, quiescent=True) == []


async def test_mark_paid_reject_and_retry_move_the_payout(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", funds=1000, min_price=10)
        for wid in ("w1", "w2", "w3", "w4"):
            await s.RequestWithdrawal(request("alice", wid, 100))

        def ident(wid: str) -> pb.GetWithdrawalRequest:
            return pb.GetWithdrawalRequest(user_id="alice", withdrawal_id=wid)

        # A requested one is claimed by the operator and marked paid (the manual rail).
        paid = await s.MarkPaid(pb.MarkPaidRequest(user_id="alice", withdrawal_id="w1",
                                                   reference="r1"))
        assert fields(paid, "state", "payer", "reference") == (State.PAID, "operator", "r1")
        # A payer's claim is the rail's to finish: marking it paid by hand too could pay it
        # twice.
        await claim(journal, "alice", "w3")
        with pytest.raises(grpc.aio.AioRpcError) as held:
            await s.MarkPaid(pb.MarkPaidRequest(user_id="alice", withdrawal_id="w3",
                                                reference="r3"))
        assert held.value.code() is grpc.StatusCode.FAILED_PRECONDITION

        # Rejecting a requested one refunds it at once.
        rejected = await s.Reject(pb.RejectRequest(user_id="alice", withdrawal_id="w2",
                                                   reason="fraud check"))
        assert fields(rejected, "state", "reason") == (State.REFUNDED, "fraud check")
        assert await s.Reject(pb.RejectRequest(user_id="alice", withdrawal_id="w2",
                                               reason="fraud check")) == rejected
        assert (await s.GetAccount(pb.GetAccountRequest(user_id="alice"))).balance == 700

        # A failed one is retried as the next try, then paid by hand on that try.
        await refused_by_rail(journal, "alice", "w3")
        failed = await s.GetWithdrawal(ident("w3"))
        assert fields(failed, "state", "tries", "payer") == (State.FAILED, 1, "payer-0")
        retried = await s.Retry(pb.RetryRequest(user_id="alice", withdrawal_id="w3"))
        assert fields(retried, "state", "tries", "reason") == \
            (State.REQUESTED, 2, "the bank refused it")
        assert await s.Retry(pb.RetryRequest(user_id="alice", withdrawal_id="w3")) == retried
        paid = await s.MarkPaid(pb.MarkPaidRequest(user_id="alice", withdrawal_id="w3",
                                                   reference="r3"))
        assert fields(paid, "state", "tries", "payer") == (State.PAID, 2, "operator")

        # A failed one may be rejected too.
        await refused_by_rail(journal, "alice", "w4")
        rejected = await s.Reject(pb.RejectRequest(user_id="alice", withdrawal_id="w4",
                                                   reason="closed account"))
        assert rejected.state == State.REFUNDED
        assert (await s.GetAccount(pb.GetAccountRequest(user_id="alice"))).balance == 800

        queue = await s.ListPayouts(pb.ListPayoutsRequest())
        assert [(w.withdrawal_id, w.state) for w in queue.withdrawals] == [
            ("w1", State.PAID), ("w2", State.REFUNDED), ("w3", State.PAID),
            ("w4", State.REFUNDED)]
        ledger = await s.GetLedger(pb.GetLedgerRequest())
        assert [fields(t, "state", "count", "total") for t in ledger.withdrawals] == \
            [(State.PAID, 2, 200), (State.REFUNDED, 2, 200)]
        assert (ledger.refunded, ledger.withdrawn, ledger.balanced) == (200, 200, True)
    assert await audit_url(url, quiescent=True) == []
