"""Who may move money out: a gateway requests withdrawals and reads a user's; only an
operator token lists the payout queue, marks paid, rejects, retries or reads the books."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb
from services.purchase import OPERATOR_ONLY, SERVICE_NAME
from services.runtime import ServerConfig, Tokens
from tests._support.world import store_url

from ._money import State, request
from ._support import code_of, documents, purchase_server, token

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
TOKENS = Tokens.parse("gateway:g1,operator:o1")
GATEWAY, OPERATOR = token("g1"), token("o1")


def _operators_calls() -> list[tuple[str, Message]]:
    return [
        ("ListPayouts", pb.ListPayoutsRequest()),
        ("GetLedger", pb.GetLedgerRequest()),
        ("Retry", pb.RetryRequest(user_id="alice", withdrawal_id="w1")),
        ("MarkPaid", pb.MarkPaidRequest(user_id="alice", withdrawal_id="w1", reference="r1")),
        ("Reject", pb.RejectRequest(user_id="alice", withdrawal_id="w2", reason="no")),
    ]


async def test_the_operators_methods_take_an_operator_token() -> None:
    assert {m.rsplit("/", 1)[1] for m in OPERATOR_ONLY} == {
        "Deposit", "ListPayouts", "MarkPaid", "Reject", "Retry", "GetLedger", "ResetPassword"}
    assert all(m.startswith(f"/{SERVICE_NAME}/") for m in OPERATOR_ONLY)


async def test_a_gateway_requests_and_reads_but_never_moves_a_payout(tmp_path: Path) -> None:
    server = ServerConfig(listen="127.0.0.1:0", tokens=TOKENS)
    async with purchase_server(store_url(tmp_path), server=server) as running:
        s, store = running.stub, running.node.wiring.store
        await s.CreateAccount(pb.CreateAccountRequest(user_id="alice"), metadata=GATEWAY)
        await s.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1", amount=1000),
                        metadata=OPERATOR)
        for wid in ("w1", "w2"):
            asked = await s.RequestWithdrawal(request("alice", wid, 100), metadata=GATEWAY)
            assert asked.withdrawal.state == State.REQUESTED
        assert await code_of(s.RequestWithdrawal(request("alice", "w3", 1))) == \
            Code.UNAUTHENTICATED
        ident = {"user_id": "alice", "withdrawal_id": "w1"}
        await s.GetWithdrawal(pb.GetWithdrawalRequest(**ident), metadata=GATEWAY)
        await s.ListWithdrawals(pb.ListWithdrawalsRequest(user_id="alice"), metadata=GATEWAY)
        statement = await s.GetStatement(pb.GetStatementRequest(user_id="alice"),
                                         metadata=GATEWAY)
        assert statement.balance == 800

        before = await documents(store)
        for method, message in _operators_calls():
            call = getattr(s, method)
            assert await code_of(call(message, metadata=GATEWAY)) == Code.PERMISSION_DENIED, \
                method
            assert await code_of(call(message)) == Code.UNAUTHENTICATED, method
        assert await documents(store) == before

        for method, message in _operators_calls():
            assert await code_of(getattr(s, method)(message, metadata=OPERATOR)) == Code.OK, \
                method
        paid = await s.GetWithdrawal(pb.GetWithdrawalRequest(**ident), metadata=GATEWAY)
        assert (paid.state, paid.reference) == (State.PAID, "r1")
        ledger = await s.GetLedger(pb.GetLedgerRequest(), metadata=OPERATOR)
        assert (ledger.deposits, ledger.balances, ledger.withdrawn, ledger.balanced) == \
            (1000, 900, 100, True)
