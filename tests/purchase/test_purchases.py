"""A user's purchases over real gRPC on a real sqlite store: ``ListPurchases`` walks them
newest first, each once, across the pages of the user's purchase list (a campaign credited
late puts older purchases on newer pages), at any page size; ``GetStatement`` carries them as
debits and still pages right; bad requests are refused as on every list."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import Credited, Journal, Policy
from services.lab.loadgen import audit_url
from tests._support.world import FUNDS, KITES, open_world, store_url

from ._money import walk
from ._support import detail_of, error_info_of, failure_of, purchase_server

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
PLAN = [("c1", "alice", "f1"), ("c1", "carol", ""), ("c1", "alice", ""), ("c1", "alice", "f1"),
        ("c2", "alice", ""), ("c2", "alice", "f1"), ("c2", "carol", ""), ("c2", "alice", ""),
        ("c2", "alice", "")]
"""(campaign, buyer, filler): alice buys 3 slots of c1, then 4 of c2; carol one of each."""


def _small_pages(journal: Journal) -> Journal:
    """A creditor whose new lists hold three purchases a page (a list keeps its own size)."""
    return Journal(journal.store, dataclasses.replace(journal.context,
                                                      policy=Policy(purchase_page=3)))


async def test_purchases_newest_first_across_pages_at_any_page_size(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", buyers=("alice", "carol"), filler=KITES,
                         campaigns=("c1", "c2"))
        bought: dict[str, list[types_pb2.FilledSlot]] = {"alice": [], "carol": []}
        for cid, uid, filler in PLAN:
            done = await s.Buy(pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=10**6,
                                             filler_id=filler))
            bought[uid].append(done.slot)
        # Listed only once its sale is credited.
        assert list((await s.ListPurchases(pb.ListPurchasesRequest(user_id="alice")))
                    .purchases) == []
        # c2 first: alice's older c1 purchases land on later pages of her list.
        for cid in ("c2", "c1"):
            assert isinstance(await _small_pages(journal).credit(cid), Credited)

        async def purchases(uid: str, size: int) -> list[pb.ListPurchasesResponse]:
            async def page(page_token: str) -> pb.ListPurchasesResponse:
                return await s.ListPurchases(pb.ListPurchasesRequest(
                    user_id=uid, page_size=size, page_token=page_token))
            return await walk(page)

        for uid in ("alice", "carol"):
            newest_first = sorted(bought[uid], key=lambda f: (f.bought_at_ms, f.campaign_id,
                                                               f.slot), reverse=True)
            for size in (1, 2, 3, 4, 0):
                pages = await purchases(uid, size)
                assert [p for page in pages for p in page.purchases] == newest_first, size
        assert [len(p.purchases) for p in await purchases("alice", 3)] == [3, 3, 1]
        assert bought["alice"][0].filler_id == "f1"
        assert [p for page in await purchases("bob", 0) for p in page.purchases] == []
    assert await audit_url(url, quiescent=True) == []


async def test_the_statement_pages_with_purchases_in_it(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", buyers=("alice", "carol"), filler=KITES,
                         campaigns=("c1", "c2"))
        bought = []
        for cid, uid, filler in PLAN:
            done = await s.Buy(pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=10**6,
                                             filler_id=filler))
            if uid == "alice":
                bought.append(done.slot)
            if len(bought) == 2:
                await s.RequestWithdrawal(pb.RequestWithdrawalRequest(
                    user_id="alice", withdrawal_id="w1", amount=5, destination="bank"))
        for cid in ("c2", "c1"):
            assert isinstance(await _small_pages(journal).credit(cid), Credited)

        async def statement(size: int) -> list[pb.Statement]:
            async def page(page_token: str) -> pb.Statement:
                return await s.GetStatement(pb.GetStatementRequest(
                    user_id="alice", page_size=size, page_token=page_token))
            return await walk(page)

        whole = await s.GetStatement(pb.GetStatementRequest(user_id="alice", page_size=500))
        lines = list(whole.entries)
        assert lines == sorted(lines, key=lambda e: (e.at_ms, e.kind, e.ident), reverse=True)
        assert sorted((e.ident, e.amount, e.at_ms) for e in lines if e.kind == "purchase") == \
            sorted((f"{f.campaign_id}:{f.slot}", -f.price, f.bought_at_ms) for f in bought)
        assert sorted(e.kind for e in lines) == ["deposit"] + ["purchase"] * 7 + ["withdrawal"]
        assert sum(e.amount for e in lines) == whole.balance == \
            FUNDS - sum(f.price for f in bought) - 5
        for size in (1, 2, 3, 4):
            pages = await statement(size)
            assert [e for p in pages for e in p.entries] == lines, size
            assert all(p.balance == whole.balance for p in pages)
    assert await audit_url(url, quiescent=True) == []


def _forged(after: list[object]) -> str:
    text = json.dumps({"list": "purchases", "after": after})
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_bad_requests_are_refused_as_on_every_list(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s = running.stub
        await open_world(s, owner="bob", campaigns=("c1",))
        for _ in range(2):
            await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10**6))
        await running.node.wiring.journal.credit("c1")
        first = await s.ListPurchases(pb.ListPurchasesRequest(user_id="alice", page_size=1))
        assert len(first.purchases) == 1 and first.next_page_token
        rest = await s.ListPurchases(pb.ListPurchasesRequest(
            user_id="alice", page_size=1, page_token=first.next_page_token))
        assert [p.slot for p in rest.purchases] == [1] and rest.next_page_token == ""
        slots = await s.ListSlots(pb.ListSlotsRequest(campaign_id="c1", page_size=1))
        statement = await s.GetStatement(pb.GetStatementRequest(user_id="alice", page_size=1))
        for bad in ("nope", "!!", slots.next_page_token, statement.next_page_token,
                    _forged([1, "c1", 1]), _forged([1, "c1", "1", 1]), _forged([1, 2, 1, 1])):
            refused = await failure_of(s.ListPurchases(pb.ListPurchasesRequest(
                user_id="alice", page_token=bad)))
            assert (refused.code(), error_info_of(refused).reason,
                    error_info_of(refused).metadata["field"]) == \
                (Code.INVALID_ARGUMENT, "INVALID_FIELD", "page_token"), bad
        refused = await failure_of(s.ListPurchases(pb.ListPurchasesRequest(
            user_id="alice", page_size=-1)))
        assert (refused.code(), error_info_of(refused).metadata["field"]) == \
            (Code.INVALID_ARGUMENT, "page_size")
        malformed = await failure_of(s.ListPurchases(pb.ListPurchasesRequest(user_id="a b")))
        violations = detail_of(malformed, error_details_pb2.BadRequest).field_violations
        assert (malformed.code(), [v.field for v in violations]) == \
            (Code.INVALID_ARGUMENT, ["user_id"])
        nobody = await failure_of(s.ListPurchases(pb.ListPurchasesRequest(user_id="ghost")))
        assert (nobody.code(), error_info_of(nobody).reason) == \
            (Code.NOT_FOUND, "USER_NOT_FOUND")
        # A forged token's page hint past the list's head reads from the head.
        past = await s.ListPurchases(pb.ListPurchasesRequest(
            user_id="alice", page_token=_forged([2**62, "c1", 9, 99])))
        assert [p.slot for p in past.purchases] == [2, 1]
