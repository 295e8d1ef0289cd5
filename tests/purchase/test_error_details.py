"""Every refusal is machine-readable: a google.rpc.ErrorInfo with a stable reason (domain
abc.v1) on purchase and notify alike, a google.rpc.BadRequest naming the proto field for bad
input, and the message naming the proto field too; the reasons the code can send are the
ones the protos list."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2

from services.api.abc.v1 import notify_pb2, types_pb2
from services.api.abc.v1 import purchase_pb2 as pb
from tests._support.world import open_world, store_url
from tests.notify._support import stack

from ._support import detail_of, error_info_of, failure_of, purchase_server

Code = grpc.StatusCode
ROOT = Path(__file__).resolve().parents[2]


def _field_of(exc: grpc.aio.AioRpcError) -> str:
    violations = detail_of(exc, error_details_pb2.BadRequest).field_violations
    assert len(violations) == 1
    field: str = violations[0].field
    assert (exc.details() or "").startswith(f"{field}: ")
    return field


@pytest.mark.asyncio
async def test_purchase_refusals_carry_their_reason_and_field(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s = running.stub
        await open_world(s, owner="bob", funds=1000, min_price=10)
        cases: list[tuple[Awaitable[object], Code, str, str]] = [
            (s.CreateAccount(pb.CreateAccountRequest(user_id="a b")), Code.INVALID_ARGUMENT,
             "INVALID_FIELD", "user_id"),
            (s.CreateCampaign(pb.CreateCampaignRequest(campaign_id="c9", owner_id="x y",
                                                       min_price=1, slot_seconds=1)),
             Code.INVALID_ARGUMENT, "INVALID_FIELD", "owner_id"),
            (s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=0)),
             Code.INVALID_ARGUMENT, "INVALID_FIELD", "max_price"),
            (s.UploadFiller(pb.UploadFillerRequest(filler=types_pb2.Filler(
                user_id="alice", filler_id="f9", text=""))), Code.INVALID_ARGUMENT,
             "INVALID_FIELD", "filler.text"),
            (s.UploadFiller(pb.UploadFillerRequest(filler=types_pb2.Filler(
                user_id="a:b", filler_id="f9", text="t"))), Code.INVALID_ARGUMENT,
             "INVALID_FIELD", "filler.user_id"),
        ]
        for call, code, reason, field in cases:
            refused = await failure_of(call)
            assert (refused.code(), error_info_of(refused).reason) == (code, reason)
            assert _field_of(refused) == field
        missing: list[tuple[Awaitable[object], str, str]] = [
            (s.GetAccount(pb.GetAccountRequest(user_id="ghost")), "USER_NOT_FOUND", "user_id"),
            (s.Buy(pb.BuyRequest(user_id="alice", campaign_id="nope", max_price=100)),
             "CAMPAIGN_NOT_FOUND", "campaign_id"),
            (s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=100,
                                 filler_id="nope")), "FILLER_NOT_FOUND", "filler_id"),
            (s.GetWithdrawal(pb.GetWithdrawalRequest(user_id="alice", withdrawal_id="w9")),
             "WITHDRAWAL_NOT_FOUND", "withdrawal_id"),
        ]
        for call, reason, key in missing:
            refused = await failure_of(call)
            info = error_info_of(refused)
            assert (refused.code(), info.reason, key in info.metadata) == (
                Code.NOT_FOUND, reason, True)
        taken = await failure_of(s.CreateAccount(pb.CreateAccountRequest(user_id="alice")))
        assert (taken.code(), error_info_of(taken).reason) == (Code.ALREADY_EXISTS,
                                                                "USER_ALREADY_EXISTS")
        poor = await failure_of(s.Buy(pb.BuyRequest(user_id="bob", campaign_id="c1",
                                                    max_price=100)))
        assert error_info_of(poor).reason == "INSUFFICIENT_FUNDS"
        assert detail_of(poor, pb.BuyRejection).reason == pb.BuyRejection.INSUFFICIENT_FUNDS


@pytest.mark.asyncio
async def test_notify_refusals_carry_their_reason_and_field(tmp_path: Path) -> None:
    async with stack(store_url(tmp_path), None) as s:
        await open_world(s.buy_stub)
        stub = s.notify_stub

        async def watch_failure(*cids: str) -> grpc.aio.AioRpcError:
            call = stub.Watch(notify_pb2.WatchRequest(campaigns=[
                notify_pb2.WatchedCampaign(campaign_id=cid) for cid in cids]))
            return await failure_of(call.read())

        bad = await watch_failure("a.b")
        assert (bad.code(), error_info_of(bad).reason, _field_of(bad)) == (
            Code.INVALID_ARGUMENT, "INVALID_FIELD", "campaign_id")
        none = await watch_failure()
        assert (error_info_of(none).reason, _field_of(none)) == ("INVALID_FIELD", "campaigns")
        unknown = await watch_failure("nope")
        assert (unknown.code(), error_info_of(unknown).reason) == (Code.NOT_FOUND,
                                                                    "CAMPAIGN_NOT_FOUND")
        got = await failure_of(stub.GetCampaign(types_pb2.GetCampaignRequest(
            campaign_id="nope")))
        assert error_info_of(got).metadata["campaign_id"] == "nope"


def _reasons_in_code() -> set[str]:
    """Every ErrorInfo reason the services can send: the literal ones and the kinds the
    journal names for NOT_FOUND / ALREADY_EXISTS."""
    found: set[str] = set()
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'Refusal\(\s*[\w.]+,\s*"([A-Z_]+)"', text))
    found |= {"INVALID_FIELD", "STORE_UNAVAILABLE"}
    kinds = {"user", "campaign", "filler", "withdrawal"}
    found |= {f"{k.upper()}_NOT_FOUND" for k in kinds}
    found |= {f"{k.upper()}_ALREADY_EXISTS" for k in (*kinds, "deposit")}
    return found


def test_every_reason_the_code_can_send_is_listed_in_the_protos() -> None:
    text = "".join(p.read_text() for p in (ROOT / "protos").rglob("*.proto"))
    reasons = _reasons_in_code()
    assert {"LOST_RACE", "FELL_BEHIND", "WRONG_STATE"} <= reasons  # the scan sees them
    assert sorted(r for r in reasons if r not in text) == []
