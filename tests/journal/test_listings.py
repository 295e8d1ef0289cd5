"""The journal's list reads: a filler is listed under its user on upload (``fillers:<uid>``),
the audit reaches that list, and the lists read pages of campaigns, slots and fillers."""

from __future__ import annotations

import pytest

from services.journal import (
    AlreadyExists,
    Created,
    Fill,
    InvalidInput,
    Missing,
    filler_key,
    fillers_key,
    list_entries,
    owned_key,
    read_documents,
)
from services.store import MemoryStore

from .conftest import CAMPAIGN, OWNER, Node, market, open_account

pytestmark = pytest.mark.asyncio


async def test_upload_filler_lists_the_filler_under_its_user() -> None:
    store = MemoryStore()
    journal = Node(store).journal
    await open_account(journal, "alice")
    await open_account(journal, "carol")
    for fid in ("f2", "f1"):
        assert await journal.upload_filler("alice", fid, "hi") == Created("filler", fid)
    assert await journal.upload_filler("carol", "f9", "yo") == Created("filler", "f9")
    # A repeat (the same id again) lists it once.
    assert await journal.upload_filler("alice", "f1", "hi") == AlreadyExists("filler", "f1")

    assert await list_entries(store, fillers_key("alice")) == ["f1", "f2"]
    assert await list_entries(store, fillers_key("carol")) == ["f9"]
    keys = [key async for key, _, _ in read_documents(store)]
    assert fillers_key("alice") in keys and fillers_key("carol") in keys

    listed = await journal.list_fillers("alice", None, 10)
    assert isinstance(listed, list) and [fid for fid, _ in listed] == ["f1", "f2"]
    assert await journal.list_fillers("alice", "f1", 10) == [("f2", _text_only("hi"))]
    assert await journal.list_fillers("ghost", None, 10) == Missing("user", "ghost")
    assert isinstance(await journal.list_fillers("al ice", None, 10), InvalidInput)
    assert await journal.get_filler("carol", "f9") == _text_only("yo")
    assert await journal.get_filler("carol", "f1") == Missing("filler", "f1")
    assert await journal.audit(quiescent=True) == []


def _text_only(text: str) -> dict[str, object]:
    """A filler document without an image, as the journal writes it."""
    return {"text": text, "link": "", "image": "", "content_type": "", "width": 0, "height": 0}


async def test_a_filler_entry_without_its_document_is_skipped() -> None:
    store = MemoryStore()
    journal = Node(store).journal
    await open_account(journal, "alice")
    for fid in ("f1", "f2", "f3"):
        await journal.upload_filler("alice", fid, "hi")
    removed = await store.get(filler_key("alice", "f2"))  # as if its insert never happened
    await store.remove(filler_key("alice", "f2"), removed.cas)
    listed = await journal.list_fillers("alice", None, 2)
    assert isinstance(listed, list) and [fid for fid, _ in listed] == ["f1", "f3"]


async def test_campaigns_and_slots_pages() -> None:
    store = MemoryStore()
    journal = Node(store).journal
    await market(journal, {"alice": 10_000})
    await open_account(journal, "carol")
    assert await journal.create_campaign("other", "carol", 5, 60) == Created("campaign",
                                                                              "other")
    # A stray entry (a creation lost to another owner) is skipped in carol's list.
    owned = await store.get(owned_key("carol"))
    await store.replace(owned_key("carol"), {"ids": [*owned.value["ids"], CAMPAIGN]},
                        owned.cas)

    everyone = await journal.list_campaigns(None, None, 10)
    assert isinstance(everyone, list)
    assert [cid for cid, _ in everyone] == sorted([CAMPAIGN, "other"])
    carols = await journal.list_campaigns("carol", None, 10)
    assert isinstance(carols, list) and [cid for cid, _ in carols] == ["other"]
    sellers = await journal.list_campaigns(OWNER, None, 10)
    assert isinstance(sellers, list) and [cid for cid, _ in sellers] == [CAMPAIGN]
    assert await journal.list_campaigns("ghost", None, 10) == Missing("user", "ghost")

    for _ in range(3):
        await journal.buy("alice", CAMPAIGN, 10_000)
    slots = await journal.list_slots(CAMPAIGN, None, 2)
    assert isinstance(slots, list) and [n for n, _ in slots] == [3, 2]
    assert all(isinstance(slot, Fill) and slot.buyer == "alice" for _, slot in slots)
    rest = await journal.list_slots(CAMPAIGN, 2, 5)
    assert isinstance(rest, list) and [n for n, _ in rest] == [1]
    assert await journal.list_slots(CAMPAIGN, 99, 5) == (await journal.list_slots(
        CAMPAIGN, None, 5))
    assert await journal.list_slots("nope", None, 5) == Missing("campaign", "nope")
