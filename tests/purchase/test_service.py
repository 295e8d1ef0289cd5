"""The purchase service over real gRPC on a real sqlite store, with real NATS: one purchase
from account to fill event, what a NATS outage does (nothing to purchases), and the status
every method answers bad input with (writing nothing)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TypeVar

import grpc
import nats
import pytest
from google.protobuf import text_format
from google.protobuf.message import Message

from services.api.abc.v1 import events_pb2, types_pb2
from services.api.abc.v1 import purchase_pb2 as pb
from services.events import fill_subject
from services.journal import MAX_MONEY, MAX_SLOT_SECONDS
from services.lab.cluster import NatsServer
from services.lab.loadgen import audit_url
from tests._support.world import KITES, open_world, store_url

from ._support import (
    code_of,
    documents,
    error_info_of,
    failure_of,
    purchase_server,
    rejection_of,
    send,
)

pytestmark = pytest.mark.asyncio

Case = tuple[str, Message, grpc.StatusCode, str]
"""A method, its request, the status it must end with, a word its message must hold."""

Reason = pb.BuyRejection.Reason
Code = grpc.StatusCode
SLOT_S = 60
# The world of most tests here (open_world's arguments): alice, with 1000, buys, with her ad f1
# (KITES); bob owns campaign c1 (min price 10, 60 s slots).


async def test_one_purchase_end_to_end(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        s = running.stub
        assert await s.CreateAccount(pb.CreateAccountRequest(user_id="alice")) == \
            pb.Account(user_id="alice", balance=0, locked=False)
        await s.CreateAccount(pb.CreateAccountRequest(user_id="bob"))
        deposited = await s.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1",
                                                      amount=1000))
        assert (deposited.applied, deposited.balance) == (True, 1000)
        created = await s.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id="c1", owner_id="bob", min_price=10, slot_seconds=SLOT_S))
        assert created == types_pb2.Campaign(campaign_id="c1", owner_id="bob", min_price=10,
                                             slot_seconds=SLOT_S)
        ad = types_pb2.Filler(user_id="alice", filler_id="f1", text="Buy our kites",
                              link="https://kites.example")
        assert await s.UploadFiller(pb.UploadFillerRequest(filler=ad)) == ad

        before = await s.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="c1"))
        assert (before.head, before.current_price) == (0, 10)
        assert not before.curve.HasField("last")
        assert not before.HasField("current_slot")
        assert not before.HasField("current_filler")
        nothing = await s.GetCurrentAd(pb.GetCurrentAdRequest(campaign_id="c1"))
        assert not nothing.HasField("slot") and not nothing.HasField("filler")

        bought = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10,
                                           filler_id="f1"))
        slot = bought.slot
        assert (slot.campaign_id, slot.slot, slot.buyer_id, slot.price, slot.filler_id,
                slot.void) == ("c1", 1, "alice", 10, "f1", False)
        assert slot.end_ms - slot.start_ms == SLOT_S * 1000
        assert bought.receipt == "txn:c1:1"
        assert bought.HasField("balance") and bought.balance == 990

        assert await s.GetAccount(pb.GetAccountRequest(user_id="alice")) == \
            pb.Account(user_id="alice", balance=990, locked=False)

        view = await s.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="c1"))
        assert view.head == 1
        assert view.current_price == 20  # 2P right after a purchase (rounded up)
        last = view.curve.last
        assert (last.slot, last.price, last.start_ms, last.end_ms) == \
            (1, 10, slot.start_ms, slot.end_ms)
        assert view.curve.min_price == 10
        assert (view.current_slot.slot, view.current_slot.buyer_id,
                view.current_slot.filler_id) == (1, "alice", "f1")
        assert view.current_filler == ad
        assert slot.start_ms <= view.as_of_ms < slot.end_ms

        showing = await s.GetCurrentAd(pb.GetCurrentAdRequest(campaign_id="c1"))
        assert (showing.slot.slot, showing.slot.buyer_id) == (1, "alice")
        assert showing.filler == ad

        # The next slot starts when this one ends, at most at the price the view said
        # (the price falls as time passes).
        second = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                           max_price=view.current_price))
        price = second.slot.price
        assert (second.slot.slot, second.slot.filler_id) == (2, "")
        assert 10 <= price <= view.current_price
        assert second.slot.start_ms == slot.end_ms
        assert second.receipt == "txn:c1:2" and second.balance == 990 - price

        login = await s.Login(pb.LoginRequest(user_id="alice"))
        assert login.resolution == pb.LoginResponse.CLEAN
        assert login.account == pb.Account(user_id="alice", balance=990 - price,
                                           locked=False)
    assert await audit_url(url, quiescent=True) == []


async def test_a_buy_publishes_its_fill_event(tmp_path: Path, nats_server: NatsServer) -> None:
    async with purchase_server(store_url(tmp_path), nats_server.url) as running:
        assert running.node.wiring.link is not None
        assert await running.node.wiring.link.wait_connected(5)
        await open_world(running.stub, owner="bob", funds=1000, min_price=10, filler=KITES)
        watcher = await nats.connect(nats_server.url)
        try:
            events = await watcher.subscribe(fill_subject("c1"))
            await watcher.flush()
            bought = await running.stub.Buy(pb.BuyRequest(
                user_id="alice", campaign_id="c1", max_price=10, filler_id="f1"))
            message = await events.next_msg(timeout=5)
        finally:
            await watcher.close()
    event = events_pb2.FillEvent.FromString(message.data)
    assert message.subject == "abc.campaign.c1.fill"
    assert event.publisher == "purchase"
    assert event.published_at_ms > 0
    s = event.slot
    assert (s.campaign_id, s.slot, s.buyer_id, s.price, s.filler_id, s.void) == \
        ("c1", 1, "alice", 10, "f1", False)
    assert (s.start_ms, s.end_ms) == (bought.slot.start_ms, bought.slot.end_ms)
    assert s.bought_at_ms > 0
    assert running.node.wiring.publisher.published == 1


async def test_buys_go_on_while_nats_is_down(tmp_path: Path, nats_server: NatsServer) -> None:
    gone = nats_server.url
    nats_server.stop()  # nothing listens on its port now
    url = store_url(tmp_path)

    async with purchase_server(url, gone) as running:
        await open_world(running.stub, owner="bob", funds=1000, min_price=10, filler=KITES)
        started = time.monotonic()
        for n in range(1, 6):
            bought = await running.stub.Buy(pb.BuyRequest(
                user_id="alice", campaign_id="c1", max_price=MAX_MONEY))
            assert bought.slot.slot == n
        # Not a benchmark: only a guard that an unreachable NATS never holds a buy up.
        assert time.monotonic() - started < 5
        publisher = running.node.wiring.publisher
        deadline = time.monotonic() + 5
        while publisher.dropped < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert (publisher.dropped, publisher.published) == (5, 0)
        assert running.node.wiring.link is not None and not running.node.wiring.link.connected
    assert await audit_url(url, quiescent=True) == []


BAD_IDS = ["", "a b", "x" * 65, "a:b", "a.b", "\u00e9"]
OUT_OF_RANGE = [0, -1, MAX_MONEY + 1, -(2**63), 2**63 - 1]


M = TypeVar("M", bound=Message)


def _with(request: M, **fields: str | int | bytes) -> M:
    """``request`` with ``fields`` set (to a bad value, say)."""
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def _filler(**fields: str | bytes) -> pb.UploadFillerRequest:
    ad = types_pb2.Filler(user_id="alice", filler_id="f2", text="t")
    return pb.UploadFillerRequest(filler=_with(ad, **fields))


def _campaign(**fields: str | int) -> pb.CreateCampaignRequest:
    return _with(pb.CreateCampaignRequest(campaign_id="c2", owner_id="bob", min_price=1,
                                          slot_seconds=60), **fields)


def _buy(**fields: str | int) -> pb.BuyRequest:
    return _with(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=100), **fields)


def _deposit(**fields: str | int) -> pb.DepositRequest:
    return _with(pb.DepositRequest(user_id="alice", deposit_id="dx", amount=1), **fields)


def _invalid_cases() -> list[Case]:
    """Every method, each field on its own bad: INVALID_ARGUMENT naming the field."""
    cases: list[tuple[str, Message, str]] = []
    for bad in BAD_IDS:
        cases += [
            ("CreateAccount", pb.CreateAccountRequest(user_id=bad), "user"),
            ("Deposit", _deposit(user_id=bad), "user"),
            ("Deposit", _deposit(deposit_id=bad), "deposit_id"),
            ("GetAccount", pb.GetAccountRequest(user_id=bad), "user"),
            ("Login", pb.LoginRequest(user_id=bad), "user"),
            ("CreateCampaign", _campaign(campaign_id=bad), "campaign"),
            ("CreateCampaign", _campaign(owner_id=bad), "owner"),
            ("GetCampaign", types_pb2.GetCampaignRequest(campaign_id=bad), "campaign"),
            ("GetCurrentAd", pb.GetCurrentAdRequest(campaign_id=bad), "campaign"),
            ("UploadFiller", _filler(user_id=bad), "user"),
            ("Buy", _buy(user_id=bad), "user"),
            ("Buy", _buy(campaign_id=bad), "campaign"),
        ]
        if bad:  # an empty filler_id means "no filler"
            cases += [("UploadFiller", _filler(filler_id=bad), "filler"),
                      ("Buy", _buy(filler_id=bad), "filler")]
    for amount in OUT_OF_RANGE:
        cases += [("Deposit", _deposit(amount=amount), "amount"),
                  ("CreateCampaign", _campaign(min_price=amount), "min_price"),
                  ("Buy", _buy(max_price=amount), "max_price")]
    for seconds in (0, -1, MAX_SLOT_SECONDS + 1, 2**63 - 1):
        cases.append(("CreateCampaign", _campaign(slot_seconds=seconds), "slot_seconds"))
    cases += [
        ("UploadFiller", _filler(text=""), "text"),
        ("UploadFiller", _filler(text="x" * 501), "text"),
        ("UploadFiller", _filler(link="x" * 2049), "link"),
        ("UploadFiller", _filler(image=b"x" * 196609), "image"),
        # The balance may never pass 10^15: alice has 1000.
        ("Deposit", _deposit(amount=MAX_MONEY), "amount"),
    ]
    return [(method, request, Code.INVALID_ARGUMENT, named) for method, request, named in cases]


def _refused_cases() -> list[Case]:
    """Unknown things: NOT_FOUND saying which; existing ids: ALREADY_EXISTS."""
    nf, ae = Code.NOT_FOUND, Code.ALREADY_EXISTS
    return [
        ("Deposit", _deposit(user_id="ghost"), nf, "user"),
        ("GetAccount", pb.GetAccountRequest(user_id="ghost"), nf, "user"),
        ("Login", pb.LoginRequest(user_id="ghost"), nf, "user"),
        ("CreateCampaign", _campaign(owner_id="ghost"), nf, "user"),
        ("GetCampaign", types_pb2.GetCampaignRequest(campaign_id="c9"), nf, "campaign"),
        ("GetCurrentAd", pb.GetCurrentAdRequest(campaign_id="c9"), nf, "campaign"),
        ("UploadFiller", _filler(user_id="ghost"), nf, "user"),
        ("Buy", _buy(user_id="ghost"), nf, "user"),
        ("Buy", _buy(campaign_id="c9"), nf, "campaign"),
        ("Buy", _buy(filler_id="f9"), nf, "filler"),
        ("Buy", _buy(user_id="bob", filler_id="f1"), nf, "filler"),  # alice's, not bob's
        ("CreateAccount", pb.CreateAccountRequest(user_id="alice"), ae, "alice"),
        ("CreateCampaign", _campaign(campaign_id="c1", owner_id="alice"), ae, "c1"),
        ("UploadFiller", _filler(filler_id="f1", text="other"), ae, "f1"),
    ]


def _short(request: Message) -> str:
    text = text_format.MessageToString(request, as_one_line=True)
    return text if len(text) < 80 else text[:77] + "..."


async def test_refusals_have_their_status_and_write_nothing(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    cases = _invalid_cases() + _refused_cases()

    async with purchase_server(url) as running:
        s = running.stub
        await open_world(s, owner="bob", funds=1000, min_price=10, filler=KITES)
        before = await documents(running.node.wiring.store)
        wrong: list[str] = []
        for method, request, expected, named in cases:
            label = f"{method}({_short(request)})"
            try:
                await send(s, method, request)
                wrong.append(f"{label}: OK, want {expected.name}")
            except grpc.aio.AioRpcError as exc:
                if exc.code() != expected or named not in (exc.details() or ""):
                    wrong.append(f"{label}: {exc.code().name} {exc.details()!r}, "
                                 f"want {expected.name} naming {named!r}")
        assert wrong == []

        # Money refusals carry a BuyRejection.
        poor = await failure_of(s.Buy(pb.BuyRequest(user_id="bob", campaign_id="c1",
                                                    max_price=100)))
        assert poor.code() == Code.FAILED_PRECONDITION
        assert rejection_of(poor) == pb.BuyRejection(
            reason=Reason.INSUFFICIENT_FUNDS, current_price=10, balance=0)
        dear = await failure_of(s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                                    max_price=9)))
        assert dear.code() == Code.ABORTED
        assert rejection_of(dear) == pb.BuyRejection(
            reason=Reason.PRICE_ABOVE_MAX, current_price=10)

        # A replayed deposit id changes nothing: the same deposit is answered as applied
        # before; another amount under that id is refused (the id is used).
        replay = await s.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1",
                                                   amount=1000))
        assert (replay.applied, replay.balance) == (False, 1000)
        other = await failure_of(s.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1",
                                                             amount=5)))
        assert other.code() == Code.ALREADY_EXISTS
        assert error_info_of(other).reason == "DEPOSIT_ALREADY_EXISTS"

        assert await documents(running.node.wiring.store) == before
        assert (await s.GetAccount(pb.GetAccountRequest(user_id="alice"))).balance == 1000
    assert await audit_url(url, quiescent=True) == []


@pytest.mark.parametrize("amount", [MAX_MONEY - 1000])
async def test_deposit_up_to_the_cap_is_fine(tmp_path: Path, amount: int) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        await open_world(running.stub, owner="bob", funds=1000, min_price=10, filler=KITES)
        done = await running.stub.Deposit(pb.DepositRequest(
            user_id="alice", deposit_id="big", amount=amount))
        assert (done.applied, done.balance) == (True, MAX_MONEY)
        assert await code_of(running.stub.Deposit(pb.DepositRequest(
            user_id="alice", deposit_id="one-more", amount=1))) == Code.INVALID_ARGUMENT
