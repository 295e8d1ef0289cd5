"""Every bad money-out request gets its status, a message naming what is wrong, and writes
nothing: the store's documents, its write counter and the balances stay as they were."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import text_format
from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import MAX_MONEY
from services.lab.loadgen import audit_url
from tests._support.world import open_world, store_url

from ._money import claim, refused_by_rail, request, withdrawal_rejection_of
from ._support import documents, failure_of, purchase_server, send, writes

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
Why = pb.WithdrawalRejection.Reason
Case = tuple[str, Message, grpc.StatusCode, str]
"""A method, its request, the status it must end with, a word its message must hold."""
# The world: alice with 1000 and her withdrawals (100 each): w1 requested, w2 paying (claimed
# by a payer), w3 paid, w4 failed, w5 refunded; bob (nothing) owns campaign c1.


def _ident(method: str, wid: str, **more: str) -> tuple[str, Message]:
    requests = {"GetWithdrawal": pb.GetWithdrawalRequest, "MarkPaid": pb.MarkPaidRequest,
                "Reject": pb.RejectRequest, "Retry": pb.RetryRequest}
    return method, requests[method](user_id="alice", withdrawal_id=wid, **more)


def _invalid_cases() -> list[Case]:
    ia = Code.INVALID_ARGUMENT
    cases: list[tuple[str, Message, str]] = [
        *[("RequestWithdrawal", request(wid="w9", amount=amount), "amount")
          for amount in (0, -1, -(2**63), MAX_MONEY + 1, 2**63 - 1)],
        *[("RequestWithdrawal", request(wid="w9", destination=to), "destination")
          for to in ("", "x" * 257, "acct\n42", "acct\x00", "\u200bacct", "acct\x7f")],
        ("RequestWithdrawal", request(uid="al:ice"), "user"),
        ("RequestWithdrawal", request(uid=""), "user"),
        ("RequestWithdrawal", request(wid="w 9"), "withdrawal_id"),
        ("RequestWithdrawal", request(wid="w" * 65), "withdrawal_id"),
        ("GetWithdrawal", pb.GetWithdrawalRequest(user_id="alice", withdrawal_id="w:1"),
         "withdrawal_id"),
        ("ListWithdrawals", pb.ListWithdrawalsRequest(user_id="alice", page_size=-1),
         "page_size"),
        ("ListWithdrawals", pb.ListWithdrawalsRequest(user_id="alice", page_token="nope"),
         "page_token"),
        ("ListWithdrawals", pb.ListWithdrawalsRequest(user_id="al ice"), "user"),
        ("GetStatement", pb.GetStatementRequest(user_id="alice", page_token="e30="),
         "page_token"),
        ("GetStatement", pb.GetStatementRequest(user_id="-" * 65), "user"),
        ("ListPayouts", pb.ListPayoutsRequest(page_token="x"), "page_token"),
        ("ListPayouts", pb.ListPayoutsRequest(state=99), "state"),  # type: ignore[arg-type]
        *[(*_ident("MarkPaid", "w1", reference=ref), "reference")
          for ref in ("", "r" * 257, "r\t1")],
        *[(*_ident("Reject", "w1", reason=why), "reason") for why in ("", "r" * 257, "no\r\n")],
        ("MarkPaid", pb.MarkPaidRequest(user_id="alice", withdrawal_id="", reference="r"),
         "withdrawal_id"),
        ("Retry", pb.RetryRequest(user_id="a:b", withdrawal_id="w1"), "user"),
    ]
    return [(method, message, ia, named) for method, message, named in cases]


def _refused_cases() -> list[Case]:
    nf, ae, fp = Code.NOT_FOUND, Code.ALREADY_EXISTS, Code.FAILED_PRECONDITION
    return [
        ("RequestWithdrawal", request(uid="ghost"), nf, "ghost"),
        ("GetWithdrawal", pb.GetWithdrawalRequest(user_id="ghost", withdrawal_id="w1"), nf,
         "w1"),
        (*_ident("GetWithdrawal", "w9"), nf, "w9"),
        ("ListWithdrawals", pb.ListWithdrawalsRequest(user_id="ghost"), nf, "ghost"),
        ("GetStatement", pb.GetStatementRequest(user_id="ghost"), nf, "ghost"),
        (*_ident("MarkPaid", "w9", reference="r"), nf, "w9"),
        (*_ident("Reject", "w9", reason="no"), nf, "w9"),
        (*_ident("Retry", "w9"), nf, "w9"),
        # The same id with other fields.
        ("RequestWithdrawal", request(wid="w1", amount=101), ae, "w1"),
        ("RequestWithdrawal", request(wid="w1", destination="elsewhere"), ae, "w1"),
        # Above the balance (600 left; bob has none, and nothing to credit).
        ("RequestWithdrawal", request(wid="w9", amount=601), fp, "insufficient"),
        ("RequestWithdrawal", request(uid="bob", wid="b1", amount=1), fp, "insufficient"),
        # Payouts in a state the move does not start from.
        (*_ident("MarkPaid", "w3", reference="other"), fp, "paid"),
        (*_ident("MarkPaid", "w4", reference="r"), fp, "failed"),
        (*_ident("MarkPaid", "w5", reference="r"), fp, "refunded"),
        (*_ident("Reject", "w2", reason="no"), fp, "paying"),
        (*_ident("Reject", "w3", reason="no"), fp, "paid"),
        (*_ident("Reject", "w5", reason="another reason"), fp, "refunded"),
        (*_ident("Retry", "w2"), fp, "paying"),
        (*_ident("Retry", "w3"), fp, "paid"),
        (*_ident("Retry", "w5"), fp, "refunded"),
    ]


def _short(message: Message) -> str:
    text = text_format.MessageToString(message, as_one_line=True)
    return text if len(text) < 80 else text[:77] + "..."


async def test_bad_money_out_requests_are_refused_and_write_nothing(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        s, journal, store = running.stub, running.node.wiring.journal, running.node.wiring.store
        await open_world(s, owner="bob", funds=1000, min_price=10)
        for wid in ("w1", "w2", "w3", "w4", "w5"):
            await s.RequestWithdrawal(request("alice", wid, 100))
        await claim(journal, "alice", "w2")
        await s.MarkPaid(pb.MarkPaidRequest(user_id="alice", withdrawal_id="w3",
                                            reference="r3"))
        await refused_by_rail(journal, "alice", "w4")
        await s.Reject(pb.RejectRequest(user_id="alice", withdrawal_id="w5", reason="no"))

        before, written = await documents(store), writes(url)
        wrong: list[str] = []
        for method, message, expected, named in _invalid_cases() + _refused_cases():
            label = f"{method}({_short(message)})"
            try:
                await send(s, method, message)
                wrong.append(f"{label}: OK, want {expected.name}")
            except grpc.aio.AioRpcError as exc:
                if exc.code() != expected or named not in (exc.details() or ""):
                    wrong.append(f"{label}: {exc.code().name} {exc.details()!r}, "
                                 f"want {expected.name} naming {named!r}")
            if writes(url) != written:
                wrong.append(f"{label}: wrote to the store")
                written = writes(url)
        assert wrong == []
        assert await documents(store) == before
        assert (await s.GetAccount(pb.GetAccountRequest(user_id="alice"))).balance == 600
        assert (await s.GetLedger(pb.GetLedgerRequest())).balanced
    assert await audit_url(url, quiescent=True) == []


async def test_refusals_carry_a_withdrawal_rejection(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", funds=1000, min_price=10)

        poor = await failure_of(s.RequestWithdrawal(request("alice", "w1", 1001)))
        assert poor.code() == Code.FAILED_PRECONDITION
        assert withdrawal_rejection_of(poor) == pb.WithdrawalRejection(
            reason=Why.INSUFFICIENT_FUNDS, balance=1000, needed=1001)

        await s.RequestWithdrawal(request("alice", "w1", 100))
        await claim(journal, "alice", "w1")
        paying = await failure_of(s.Reject(pb.RejectRequest(user_id="alice",
                                                            withdrawal_id="w1", reason="no")))
        assert paying.code() == Code.FAILED_PRECONDITION
        assert "'w1' is paying" in (paying.details() or "")
        assert withdrawal_rejection_of(paying) == pb.WithdrawalRejection(
            reason=Why.WRONG_STATE, state="paying", wanted=["requested", "failed"])


async def test_an_amount_is_a_whole_number() -> None:
    # Not even sent: the message refuses to hold a fraction.
    with pytest.raises(TypeError):
        pb.RequestWithdrawalRequest(amount=1.5)  # type: ignore[arg-type]
