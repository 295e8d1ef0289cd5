"""Whatever a client sends to the money-out methods, the answer is a status the contract names
(never INTERNAL, UNKNOWN, or UNAVAILABLE from a healthy store), a refusal writes nothing, the
books balance and the quiescent audit stays clean.

The withdrawers here own no campaign. A seller's withdrawal that the balance alone cannot
cover first credits their campaigns' sales (as recovery would anyway): that credit stays even
if the withdrawal is then refused (the last test)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import MAX_MONEY
from services.lab.loadgen import audit_url
from tests._support.world import open_world, store_url

from ._contract import contract_server
from ._money import request
from ._support import failure_of, purchase_server

Code = grpc.StatusCode
ANSWERS = {Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.ALREADY_EXISTS,
           Code.FAILED_PRECONDITION}

_text = st.text(st.characters(codec="utf-8"), max_size=80)
ids = st.one_of(st.sampled_from(["", "a b", "a:b", "x" * 64, "x" * 65, "ghost"]),
                st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True), _text)
users = st.one_of(st.sampled_from(["alice", "carol"]), ids.filter(lambda u: u != "bob"))
wids = st.one_of(st.sampled_from(["w1", "w2", "w3"]), ids)
int64 = st.one_of(st.sampled_from([-(2**63), -1, 0, 1, MAX_MONEY, MAX_MONEY + 1, 2**63 - 1]),
                  st.integers(1, 2000), st.integers(-(2**63), 2**63 - 1))
int32 = st.one_of(st.sampled_from([-1, 0, 1, 2, 500, 501]), st.integers(-(2**31), 2**31 - 1))
notes = st.one_of(st.sampled_from(["", "ref-1", "r" * 256, "r" * 257, "a\nb"]), _text)
states = st.integers(0, 8)  # 7 and 8 are no state
tokens = st.one_of(st.just(""), _text)
both = {"user_id": users, "withdrawal_id": wids}
real = {"user_id": st.sampled_from(["alice", "carol"]),
        "withdrawal_id": st.sampled_from(["w1", "w2", "w3"])}

calls = st.one_of(
    st.tuples(st.just("RequestWithdrawal"), st.builds(
        pb.RequestWithdrawalRequest, **both, amount=int64,
        destination=st.one_of(st.just("acct"), notes))),
    st.tuples(st.just("GetWithdrawal"), st.builds(pb.GetWithdrawalRequest, **both)),
    st.tuples(st.just("ListWithdrawals"), st.builds(
        pb.ListWithdrawalsRequest, user_id=users, page_size=int32, page_token=tokens)),
    st.tuples(st.just("GetStatement"), st.builds(
        pb.GetStatementRequest, user_id=users, page_size=int32, page_token=tokens)),
    st.tuples(st.just("ListPayouts"), st.builds(
        pb.ListPayoutsRequest, state=states, page_size=int32, page_token=tokens)),
    st.tuples(st.just("MarkPaid"), st.builds(pb.MarkPaidRequest, **both, reference=notes)),
    st.tuples(st.just("Reject"), st.builds(pb.RejectRequest, **both, reason=notes)),
    st.tuples(st.just("Retry"), st.builds(pb.RetryRequest, **both)),
    st.tuples(st.just("GetLedger"), st.just(pb.GetLedgerRequest())),
    # Calls that pass validation, so withdrawals really happen and move in between.
    st.tuples(st.just("RequestWithdrawal"), st.builds(
        pb.RequestWithdrawalRequest, **real, amount=st.integers(1, 300),
        destination=st.sampled_from(["acct", "other"]))),
    st.tuples(st.just("MarkPaid"), st.builds(
        pb.MarkPaidRequest, **real, reference=st.sampled_from(["ref-1", "ref-2"]))),
    st.tuples(st.just("Reject"), st.builds(
        pb.RejectRequest, **real, reason=st.sampled_from(["no", "fraud"]))),
    st.tuples(st.just("Retry"), st.builds(pb.RetryRequest, **real)),
)


def test_any_money_out_request_gets_a_contract_status(tmp_path: Path) -> None:
    with contract_server(store_url(tmp_path)) as server:
        stub = server.stub
        server.loop.run(open_world(stub, owner="bob", buyers=("alice", "carol"), funds=1000))

        @settings(max_examples=200, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(calls, min_size=1, max_size=6))
        def every_answer_is_in_the_contract(batch: list[tuple[str, Message]]) -> None:
            assert server.misanswers(batch, ANSWERS) == []

        every_answer_is_in_the_contract()

        async def ledger() -> pb.Ledger:
            return await stub.GetLedger(pb.GetLedgerRequest())

        assert server.loop.run(ledger()).balanced


@pytest.mark.asyncio
async def test_a_sellers_refused_withdrawal_still_credits_their_sales(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s = running.stub
        await open_world(s, owner="bob", funds=1000, min_price=100)
        await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=100))
        refused = await failure_of(s.RequestWithdrawal(request("bob", "b1", 1000)))
        assert refused.code() == Code.FAILED_PRECONDITION
        assert "balance 98" in (refused.details() or "")  # 100 less the 1.5% fee, rounded up
        statement = await s.GetStatement(pb.GetStatementRequest(user_id="bob"))
        assert [(e.kind, e.amount) for e in statement.entries] == [("credit", 98)]
        assert (await s.GetLedger(pb.GetLedgerRequest())).balanced
    assert await audit_url(url, quiescent=True) == []
