"""What a campaign shows now: the slot whose time covers now, found by stepping back from the
last purchase, and no store read at all when nothing is showing."""

from __future__ import annotations

import pytest

from services.journal import Bought, Campaign, campaign_key, showing
from services.store import MemoryStore

from .conftest import CAMPAIGN, SLOT_SECONDS, T0, Node, RecordingStore, market

pytestmark = pytest.mark.asyncio

SLOT_MS = SLOT_SECONDS * 1000


@pytest.mark.parametrize(("at_ms", "shown", "reads"), [
    (10, 1, ["slot:camp:2", "slot:camp:1"]),  # slot 2 is queued after slot 1: step back
    (SLOT_MS + 10, 2, ["slot:camp:2"]),
    (2 * SLOT_MS, None, []),  # both have ended
])
async def test_the_slot_showing_now(at_ms: int, shown: int | None, reads: list[str]) -> None:
    store = RecordingStore(MemoryStore())
    journal = Node(store).journal
    await market(journal, {"alice": 10_000})
    for _ in (1, 2):  # at T0: slot 1 runs from T0, slot 2 from the end of slot 1
        assert isinstance(await journal.buy("alice", CAMPAIGN, 10_000), Bought)
    campaign = Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value)
    store.ops.clear()
    found = await showing(store, CAMPAIGN, campaign, T0 + at_ms)
    assert (None if found is None else found.slot) == shown
    assert [key for op, key in store.ops if op == "get"] == reads


async def test_a_campaign_never_bought_shows_nothing_without_a_read() -> None:
    store = RecordingStore(MemoryStore())
    await market(Node(store).journal, {})
    campaign = Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value)
    store.ops.clear()
    assert await showing(store, CAMPAIGN, campaign, T0) is None
    assert store.ops == []


async def test_the_filler_is_read_only_when_asked_for() -> None:
    store = RecordingStore(MemoryStore())
    journal = Node(store).journal
    await market(journal, {"alice": 10_000})
    assert await journal.upload_filler("alice", "f1", "kites", "", b"") is not None
    assert isinstance(await journal.buy("alice", CAMPAIGN, 10_000, filler="f1"), Bought)
    campaign = Campaign.from_json((await store.get(campaign_key(CAMPAIGN))).value)
    for with_filler, reads in [(True, ["slot:camp:1", "filler:alice:f1"]),
                               (False, ["slot:camp:1"])]:
        store.ops.clear()
        found = await showing(store, CAMPAIGN, campaign, T0, with_filler=with_filler)
        assert found is not None and (found.filler is not None) == with_filler
        assert [key for op, key in store.ops if op == "get"] == reads
