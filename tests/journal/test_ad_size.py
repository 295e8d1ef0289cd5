"""A campaign's ad size (docs/protocol.md, "Campaign" and "buy"): both sides or neither, each 1
to 4096, fixed in the campaign document; a buy there with a filler whose image is not exactly
that size is AdSizeMismatch with nothing written, decided from the documents the purchase
reads anyway (the store operations of a buy do not change); a buy without a filler is
allowed on any campaign."""

from __future__ import annotations

from typing import Any

import pytest

from services.journal import (
    MAX_AD_SIDE,
    AdSizeMismatch,
    Bought,
    Campaign,
    Created,
    InvalidInput,
    audit,
    campaign_key,
)
from services.store import MemoryStore
from tests._support.images import image_bytes

from .conftest import CAMPAIGN, OWNER, Node, RecordingStore, market, open_account, value_of

pytestmark = pytest.mark.asyncio

SIZED = "banner"


async def _world() -> tuple[RecordingStore, Node]:
    """``CAMPAIGN`` of any size, ``SIZED`` of 300 x 250; alice with fillers ``fit`` (300 x
    250), ``wide`` (728 x 90) and ``words`` (no image); the recorder has recorded nothing."""
    inner = MemoryStore()
    setup = Node(inner).journal
    await market(setup, {"alice": 10_000})
    assert await setup.create_campaign(SIZED, OWNER, 100, 60, 300, 250) == \
        Created("campaign", SIZED)
    for fid, image in [("fit", image_bytes("PNG", 300, 250)),
                       ("wide", image_bytes("GIF", 728, 90)), ("words", b"")]:
        assert await setup.upload_filler("alice", fid, "Kites", image=image) == \
            Created("filler", fid)
    store = RecordingStore(inner)
    return store, Node(store)


async def test_the_ad_size_is_kept_in_the_campaign_document() -> None:
    store, node = await _world()
    sized = await value_of(store, campaign_key(SIZED))
    assert sized is not None and (sized["ad_width"], sized["ad_height"]) == (300, 250)
    anything = await value_of(store, campaign_key(CAMPAIGN))
    assert anything is not None and "ad_width" not in anything  # as before ad sizes
    assert Campaign.from_json(anything).sized is False
    # The head moving on keeps it.
    assert isinstance(await node.journal.buy("alice", SIZED, 10_000, filler="fit"), Bought)
    sized = await value_of(store, campaign_key(SIZED))
    assert sized is not None and (sized["head"], sized["ad_width"], sized["ad_height"]) == \
        (1, 300, 250)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (MAX_AD_SIDE, MAX_AD_SIDE), (728, 90)])
async def test_an_ad_size_at_the_limits_is_accepted(width: int, height: int) -> None:
    journal = Node(MemoryStore()).journal
    await open_account(journal, OWNER)
    assert await journal.create_campaign("c", OWNER, 100, 60, width, height) == \
        Created("campaign", "c")


@pytest.mark.parametrize(("width", "height", "field"), [
    (300, 0, "ad_height"), (0, 250, "ad_width"), (MAX_AD_SIDE + 1, 250, "ad_width"),
    (300, MAX_AD_SIDE + 1, "ad_height"), (-300, 250, "ad_width"), (300, -1, "ad_height"),
    (300.0, 250, "ad_width"), (True, 250, "ad_width"), ("300", 250, "ad_width"),
])
async def test_a_bad_ad_size_is_invalid_input_and_writes_nothing(
        width: Any, height: Any, field: str) -> None:
    inner = MemoryStore()
    await open_account(Node(inner).journal, OWNER)
    store = RecordingStore(inner)
    outcome = await Node(store).journal.create_campaign("c", OWNER, 100, 60, width, height)
    assert isinstance(outcome, InvalidInput) and outcome.field == field
    assert store.ops == []


@pytest.mark.parametrize(("filler", "size"), [("wide", (728, 90)), ("words", (0, 0))])
async def test_a_filler_of_another_size_is_refused_and_nothing_written(
        filler: str, size: tuple[int, int]) -> None:
    store, node = await _world()
    outcome = await node.journal.buy("alice", SIZED, 10_000, filler=filler)
    assert outcome == AdSizeMismatch(SIZED, filler, 300, 250, *size)
    assert store.writes == []
    assert store.ops == [("get", "user:alice"), ("get", f"filler:alice:{filler}"),
                         ("get", f"campaign:{SIZED}")]


async def test_a_filler_of_the_size_buys_with_the_same_store_operations() -> None:
    """The check costs no store operation: a buy on the sized campaign does exactly what a
    buy with a filler did before ad sizes."""
    store, node = await _world()
    assert isinstance(await node.journal.buy("alice", SIZED, 10_000, filler="fit"), Bought)
    assert store.ops == [
        ("get", "user:alice"),
        ("get", "filler:alice:fit"),
        ("get", f"campaign:{SIZED}"),
        ("replace", "user:alice"),
        ("insert", f"slot:{SIZED}:1"),
        ("insert", f"txn:{SIZED}:1"),
        ("replace", "user:alice"),
        ("replace", f"campaign:{SIZED}"),
    ]


async def test_any_filler_buys_on_a_campaign_of_any_size_and_no_filler_anywhere() -> None:
    store, node = await _world()
    for filler in ("fit", "wide", "words", None):
        assert isinstance(await node.journal.buy("alice", CAMPAIGN, 10_000, filler=filler),
                          Bought), filler
    assert isinstance(await node.journal.buy("alice", SIZED, 10_000), Bought)
    assert await audit(store, quiescent=True) == []


async def test_a_campaign_written_before_ad_sizes_takes_any_filler() -> None:
    store, node = await _world()
    doc = await store.get(campaign_key(CAMPAIGN))
    old = {k: v for k, v in doc.value.items() if k not in ("fee_bps", "credited")}
    await store.replace(campaign_key(CAMPAIGN), old, doc.cas)
    assert isinstance(await node.journal.buy("alice", CAMPAIGN, 10_000, filler="wide"), Bought)
