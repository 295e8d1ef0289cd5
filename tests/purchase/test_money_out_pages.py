"""Paged lists: walking the page tokens visits every item once, in order, even while new
items arrive; sizes are bounded; a token works only for the list that handed it out."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import InvalidInput
from services.purchase._pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Paging, paging
from tests._support.world import open_world, store_url

from ._money import State, claim, request, walk
from ._support import purchase_server

pytestmark = pytest.mark.asyncio

COUNT = 23


async def test_page_tokens_walk_every_list_once(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", buyers=("alice", "carol"), funds=1000)
        for n in range(COUNT):
            await s.RequestWithdrawal(request("alice", f"w{n:02}", 10))
            if n % 3 == 0:
                await s.RequestWithdrawal(request("carol", f"w{n:02}", 10))
                await claim(journal, "carol", f"w{n:02}")
        everything = (await s.ListWithdrawals(pb.ListWithdrawalsRequest(
            user_id="alice", page_size=MAX_PAGE_SIZE))).withdrawals
        newest_first = sorted(everything, key=lambda w: (w.requested_at_ms, w.withdrawal_id),
                              reverse=True)
        assert len(everything) == COUNT and list(everything) == newest_first

        # A withdrawal that arrives mid-walk is newer than the pages still to come.
        arrived = False

        async def alices(page_token: str) -> pb.ListWithdrawalsResponse:
            nonlocal arrived
            if page_token and not arrived:
                await s.RequestWithdrawal(request("alice", "zlate", 10))
                arrived = True
            return await s.ListWithdrawals(pb.ListWithdrawalsRequest(
                user_id="alice", page_size=5, page_token=page_token))

        pages = await walk(alices)
        assert [len(p.withdrawals) for p in pages] == [5, 5, 5, 5, 3]
        assert [w for p in pages for w in p.withdrawals] == list(everything)

        async def statement(page_token: str) -> pb.Statement:
            return await s.GetStatement(pb.GetStatementRequest(
                user_id="alice", page_size=4, page_token=page_token))

        entries = [e for p in await walk(statement) for e in p.entries]
        assert [(e.kind, e.ident) for e in entries] == \
            [("withdrawal", "zlate")] + [("withdrawal", w.withdrawal_id) for w in everything] \
            + [("deposit", "d1")]

        async def paying(page_token: str) -> pb.ListPayoutsResponse:
            return await s.ListPayouts(pb.ListPayoutsRequest(
                state=State.PAYING, page_size=3, page_token=page_token))

        claimed = [w for p in await walk(paying) for w in p.withdrawals]
        assert [(w.user_id, w.withdrawal_id) for w in claimed] == \
            [("carol", f"w{n:02}") for n in range(0, COUNT, 3)]

        async def queue(page_token: str) -> pb.ListPayoutsResponse:
            return await s.ListPayouts(pb.ListPayoutsRequest(page_size=7,
                                                             page_token=page_token))

        everyone = [w for p in await walk(queue) for w in p.withdrawals]
        assert len(everyone) == COUNT + 1 + len(claimed)
        assert len({(w.user_id, w.withdrawal_id) for w in everyone}) == len(everyone)
        assert everyone == sorted(everyone, key=lambda w: (w.requested_at_ms, w.user_id,
                                                           w.withdrawal_id))

        default = await s.ListPayouts(pb.ListPayoutsRequest())
        assert len(default.withdrawals) == min(DEFAULT_PAGE_SIZE, len(everyone))


async def test_sizes_are_bounded_and_tokens_belong_to_their_list() -> None:
    shape = (int, str)
    assert paging("a", shape, 0, "") == Paging("a", DEFAULT_PAGE_SIZE, None)
    assert paging("a", shape, 10**6, "") == Paging("a", MAX_PAGE_SIZE, None)
    assert isinstance(paging("a", shape, -1, ""), InvalidInput)

    items = [(n, f"i{n}") for n in range(5)]
    first = Paging("a", 2, None)
    chosen, token = first.page(items, lambda i: i, newest_first=True)
    assert chosen == [(4, "i4"), (3, "i3")] and token
    after = paging("a", shape, 2, token)
    assert isinstance(after, Paging)
    chosen, token = after.page(items, lambda i: i, newest_first=True)
    assert chosen == [(2, "i2"), (1, "i1")]
    last = paging("a", shape, 2, token)
    assert isinstance(last, Paging)
    assert last.page(items, lambda i: i, newest_first=True) == ([(0, "i0")], "")

    def forged(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    for bad in ("", "!!", "é", "bm9wZQ==", forged([1, "x"]), forged({"list": "b", "after": [1,
                "x"]}), forged({"list": "a", "after": [True, "x"]}),
                forged({"list": "a", "after": [1]}), forged({"list": "a", "after": ["1", "x"]})):
        found = paging("a", shape, 2, bad)
        assert isinstance(found, InvalidInput if bad else Paging), bad
    assert paging("a", shape, 2, forged({"list": "a", "after": [1, "x"]})) == \
        Paging("a", 2, (1, "x"))
