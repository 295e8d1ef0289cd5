"""A gateway's lists over real gRPC on a real sqlite store: campaigns (all, or one owner's),
a campaign's slots newest first (a void among them), a user's fillers, and GetFiller. Each
list is walked page by page: every item once, in order, at any page size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import (
    Campaign,
    IndexKind,
    Journal,
    JournalContext,
    Timing,
    filler_key,
    owned_key,
    price_at,
)
from services.journal._index import add_entry, add_to_index
from services.lab.loadgen import audit_url
from tests._support.images import image_bytes
from tests._support.world import KITES, open_world, store_url
from tests.journal.conftest import Crash, crash_after

from ._money import walk
from ._support import error_info_of, failure_of, purchase_server, send

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode


async def test_campaigns_page_in_id_order_all_or_one_owners(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, journal = running.stub, running.node.wiring.journal
        store, context = journal.store, journal.context
        await open_world(s, owner="bob", campaigns=("c3", "c1", "c2"), min_price=7)
        await s.CreateAccount(pb.CreateAccountRequest(user_id="carol"))
        for cid in ("z9", "a1"):
            await s.CreateCampaign(pb.CreateCampaignRequest(
                campaign_id=cid, owner_id="carol", min_price=5, slot_seconds=60))
        await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c2", max_price=100))
        # Leftovers of creations that did not finish: an index entry without a campaign, and
        # a stray owned entry of a creation that lost c1 to bob. Both are skipped.
        await add_to_index(store, context, IndexKind.CAMPAIGNS, "ghost")
        await add_entry(store, context, owned_key("carol"), "c1")

        async def listing(owner: str, size: int) -> list[pb.ListCampaignsResponse]:
            async def page(page_token: str) -> pb.ListCampaignsResponse:
                return await s.ListCampaigns(pb.ListCampaignsRequest(
                    owner_id=owner, page_size=size, page_token=page_token))
            return await walk(page)

        pages = await listing("", 2)
        assert [len(p.campaigns) for p in pages] == [2, 2, 1]
        listed = [c for p in pages for c in p.campaigns]
        assert [c.campaign.campaign_id for c in listed] == ["a1", "c1", "c2", "c3", "z9"]
        for page in pages:
            for c in page.campaigns:
                cid = c.campaign.campaign_id
                found = await journal.get_campaign(cid)
                assert isinstance(found, Campaign)
                assert (c.campaign.owner_id, c.campaign.min_price, c.campaign.slot_seconds,
                        c.head, c.current_price) == \
                    (found.owner, found.min_price, found.slot_seconds, found.head,
                     price_at(found, page.as_of_ms))
        assert [c.head for c in listed] == [0, 0, 1, 0, 0]

        ones = await listing("", 1)
        assert len(ones) == 5
        assert [c.campaign.campaign_id for p in ones for c in p.campaigns] == \
            ["a1", "c1", "c2", "c3", "z9"]

        bobs = [c.campaign.campaign_id for p in await listing("bob", 1) for c in p.campaigns]
        assert bobs == ["c1", "c2", "c3"]
        carols = [c for p in await listing("carol", 0) for c in p.campaigns]
        assert [(c.campaign.campaign_id, c.campaign.owner_id) for c in carols] == \
            [("a1", "carol"), ("z9", "carol")]
        assert [c for p in await listing("alice", 0) for c in p.campaigns] == []

        missing = await failure_of(s.ListCampaigns(pb.ListCampaignsRequest(owner_id="ghost")))
        assert (missing.code(), error_info_of(missing).reason) == \
            (Code.NOT_FOUND, "USER_NOT_FOUND")
        bad = await failure_of(s.ListCampaigns(pb.ListCampaignsRequest(owner_id="gh ost")))
        assert (bad.code(), error_info_of(bad).metadata["field"]) == \
            (Code.INVALID_ARGUMENT, "owner_id")
    assert await audit_url(url, quiescent=True) == []


async def _void_next_slot(journal: Journal, cid: str, uid: str) -> None:
    """A purchase of ``uid``'s that dies after its intent, fenced by a resolver: the slot it
    was after is finished as a void (nobody bought it)."""
    dying = Journal(journal.store, JournalContext(on_step=crash_after("buy.intent")))
    with pytest.raises(Crash):
        await dying.buy(uid, cid, 10**6)
    fencer = Journal(journal.store, JournalContext(timing=Timing(resolve_grace_ms=0)))
    await fencer.resolve_account(uid)


async def test_slots_newest_first_with_a_void(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, journal = running.stub, running.node.wiring.journal
        await open_world(s, owner="bob", buyers=("alice", "carol"), filler=KITES,
                         campaigns=("c1", "c2"))
        bought: dict[int, types_pb2.FilledSlot] = {}
        for uid, filler in (("alice", "f1"), ("carol", ""), ("alice", "")):
            done = await s.Buy(pb.BuyRequest(user_id=uid, campaign_id="c1", max_price=10**6,
                                             filler_id=filler))
            bought[done.slot.slot] = done.slot
        await _void_next_slot(journal, "c1", "carol")
        done = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10**6))
        bought[done.slot.slot] = done.slot
        assert sorted(bought) == [1, 2, 3, 5]

        async def slots(size: int) -> list[pb.ListSlotsResponse]:
            async def page(page_token: str) -> pb.ListSlotsResponse:
                return await s.ListSlots(pb.ListSlotsRequest(
                    campaign_id="c1", page_size=size, page_token=page_token))
            return await walk(page)

        pages = await slots(2)
        assert [len(p.slots) for p in pages] == [2, 2, 1]
        listed = [slot for p in pages for slot in p.slots]
        void = types_pb2.FilledSlot(campaign_id="c1", slot=4, void=True)
        assert listed == [bought[5], void, bought[3], bought[2], bought[1]]
        assert bought[1].filler_id == "f1" and bought[2].buyer_id == "carol"
        assert [slot for p in await slots(1) for slot in p.slots] == listed
        assert [slot for p in await slots(0) for slot in p.slots] == listed

        empty = await s.ListSlots(pb.ListSlotsRequest(campaign_id="c2"))
        assert (list(empty.slots), empty.next_page_token) == ([], "")
        missing = await failure_of(s.ListSlots(pb.ListSlotsRequest(campaign_id="nope")))
        assert (missing.code(), error_info_of(missing).reason) == \
            (Code.NOT_FOUND, "CAMPAIGN_NOT_FOUND")
    assert await audit_url(url, quiescent=True) == []


def _filler(uid: str, fid: str, image: bytes = b"") -> types_pb2.Filler:
    return types_pb2.Filler(user_id=uid, filler_id=fid, text=f"{uid}'s {fid}",
                            link=f"https://{uid}.example/{fid}", image=image)


async def test_fillers_of_one_user_and_get_filler(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, store = running.stub, running.node.wiring.store
        await open_world(s, owner="bob", buyers=("alice", "carol"))
        uploaded = [_filler("alice", fid, image=image_bytes("PNG", 30, 20) if fid == "f2"
                            else b"") for fid in ("f3", "f1", "f2", "f4")]
        for filler in [*uploaded, _filler("carol", "f1"), _filler("carol", "x")]:
            await s.UploadFiller(pb.UploadFillerRequest(filler=filler))
        uploaded[2].MergeFrom(types_pb2.Filler(content_type="image/png", width=30, height=20))
        # A filler uploaded before the per-user lists existed (and before images were
        # checked, with an image that is "<script>"): its document and its index entry,
        # nothing in fillers:alice. GetFiller finds it, without the unchecked image;
        # ListFillers does not list it.
        await add_to_index(store, running.node.wiring.journal.context, IndexKind.FILLERS,
                           "alice:old")
        await store.insert(filler_key("alice", "old"), {"text": "old", "link": "",
                                                        "image": "PHNjcmlwdD4="})

        async def fillers(uid: str, size: int) -> list[pb.ListFillersResponse]:
            async def page(page_token: str) -> pb.ListFillersResponse:
                return await s.ListFillers(pb.ListFillersRequest(
                    user_id=uid, page_size=size, page_token=page_token))
            return await walk(page)

        pages = await fillers("alice", 3)
        assert [len(p.fillers) for p in pages] == [3, 1]
        listed = [f for p in pages for f in p.fillers]
        without_images = sorted((types_pb2.Filler(
            user_id=f.user_id, filler_id=f.filler_id, text=f.text, link=f.link,
            content_type=f.content_type, width=f.width, height=f.height)
            for f in uploaded), key=lambda f: f.filler_id)
        assert listed == without_images
        assert [f for p in await fillers("alice", 1) for f in p.fillers] == listed
        assert [f.filler_id for p in await fillers("carol", 0) for f in p.fillers] == \
            ["f1", "x"]
        assert [f for p in await fillers("bob", 0) for f in p.fillers] == []

        assert await s.GetFiller(pb.GetFillerRequest(user_id="alice", filler_id="f2")) == \
            uploaded[2]
        old = await s.GetFiller(pb.GetFillerRequest(user_id="alice", filler_id="old"))
        assert (old.text, old.image, old.content_type, old.width, old.height) == \
            ("old", b"", "", 0, 0)
        missing = await failure_of(s.GetFiller(pb.GetFillerRequest(user_id="carol",
                                                                   filler_id="f2")))
        info = error_info_of(missing)
        assert (missing.code(), info.reason, info.metadata["filler_id"]) == \
            (Code.NOT_FOUND, "FILLER_NOT_FOUND", "f2")
        nobody = await failure_of(s.ListFillers(pb.ListFillersRequest(user_id="ghost")))
        assert (nobody.code(), error_info_of(nobody).reason) == \
            (Code.NOT_FOUND, "USER_NOT_FOUND")


Call = Callable[[str], Awaitable[Message]]


async def test_bad_page_tokens_and_sizes_are_invalid_arguments(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s = running.stub
        await open_world(s, owner="bob", campaigns=("c1", "c2"),
                         filler=types_pb2.Filler(user_id="alice", filler_id="f1", text="a"))
        await s.UploadFiller(pb.UploadFillerRequest(filler=types_pb2.Filler(
            user_id="alice", filler_id="f2", text="b")))
        for _ in range(2):
            await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10**6))
        requests: dict[str, Callable[..., Message]] = {
            "ListCampaigns": lambda **page: pb.ListCampaignsRequest(**page),
            "ListSlots": lambda **page: pb.ListSlotsRequest(campaign_id="c1", **page),
            "ListFillers": lambda **page: pb.ListFillersRequest(user_id="alice", **page),
        }
        tokens = {}
        for method, make in requests.items():
            first = await send(s, method, make(page_size=1))
            assert isinstance(first, pb.ListCampaignsResponse | pb.ListSlotsResponse
                              | pb.ListFillersResponse)
            assert first.next_page_token
            tokens[method] = first.next_page_token
        for method, make in requests.items():
            others = [t for m, t in tokens.items() if m != method]
            for bad in ["nope", "!!", "eyJsaXN0IjoiY2FtcGFpZ25zIn0=", *others]:
                refused = await failure_of(send(s, method, make(page_token=bad)))
                assert (refused.code(), error_info_of(refused).metadata["field"]) == \
                    (Code.INVALID_ARGUMENT, "page_token"), (method, bad)
            refused = await failure_of(send(s, method, make(page_size=-1)))
            assert (refused.code(), error_info_of(refused).metadata["field"]) == \
                (Code.INVALID_ARGUMENT, "page_size"), method
