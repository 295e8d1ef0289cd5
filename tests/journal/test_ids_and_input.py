"""Input is checked before anything is written.

Ids match ``[A-Za-z0-9_-]{1,64}`` (so no key can be forged with a ``:``); money and prices are
integers in ``[1, MAX_MONEY]`` (never a float, never a bool); ``slot_seconds`` is in
``[1, MAX_SLOT_SECONDS]``; a filler's text is 1 to ``MAX_FILLER_TEXT`` characters, its link
and image bounded too. Anything else is ``InvalidInput`` naming the field; an unknown user,
campaign or filler is ``Missing``. Either way the store sees no write at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.journal import (
    MAX_FILLER_IMAGE,
    MAX_FILLER_LINK,
    MAX_FILLER_TEXT,
    MAX_MONEY,
    MAX_SLOT_SECONDS,
    Created,
    InvalidInput,
    Journal,
    Missing,
    invalid_id,
)
from services.store import MemoryStore
from tests._support.images import png_of_length

from .conftest import CAMPAIGN, OWNER, Node, RecordingStore, market, open_account

pytestmark = pytest.mark.asyncio

Call = Callable[[Journal, Any], Awaitable[object]]
"""One journal op, with the value under test in one argument and good values elsewhere."""


async def _world() -> RecordingStore:
    """seller's campaign, alice (1000, with the filler ``ad``), bob (0, with ``bobad``);
    returned behind a recorder that has recorded nothing yet."""
    inner = MemoryStore()
    setup = Node(inner).journal
    await market(setup, {"alice": 1000})
    await open_account(setup, "bob")
    assert await setup.upload_filler("alice", "ad", "Buy now") == Created("filler", "ad")
    assert await setup.upload_filler("bob", "bobad", "Bob's") == Created("filler", "bobad")
    return RecordingStore(inner)


async def _attempt(call: Call, value: Any) -> tuple[object, RecordingStore]:
    store = await _world()
    outcome = await call(Node(store).journal, value)
    return outcome, store


ID_FIELDS: dict[str, tuple[str, Call]] = {
    "create_account.user": ("user", lambda j, v: j.create_account(v)),
    "create_campaign.campaign": ("campaign", lambda j, v: j.create_campaign(v, OWNER, 100, 60)),
    "create_campaign.owner": ("owner", lambda j, v: j.create_campaign("camp2", v, 100, 60)),
    "deposit.user": ("user", lambda j, v: j.deposit(v, "d9", 10)),
    "deposit.deposit_id": ("deposit_id", lambda j, v: j.deposit("alice", v, 10)),
    "buy.user": ("user", lambda j, v: j.buy(v, CAMPAIGN, 1000)),
    "buy.campaign": ("campaign", lambda j, v: j.buy("alice", v, 1000)),
    "buy.filler": ("filler", lambda j, v: j.buy("alice", CAMPAIGN, 1000, filler=v)),
    "upload_filler.user": ("user", lambda j, v: j.upload_filler(v, "ad2", "hi")),
    "upload_filler.filler": ("filler", lambda j, v: j.upload_filler("alice", v, "hi")),
}

BAD_IDS: dict[str, object] = {
    "empty": "",
    "65 chars": "a" * 65,
    "separator": "a:b",
    "space": "a b",
    "unicode letter": "caf\u00e9",
    "unicode digit": "\u0661",
    "trailing newline": "a\n",
    "int": 42,
    "bytes": b"ab",
}


@pytest.mark.parametrize("bad", BAD_IDS.values(), ids=BAD_IDS.keys())
@pytest.mark.parametrize("case", ID_FIELDS, ids=ID_FIELDS.keys())
async def test_a_bad_id_is_invalid_input_and_writes_nothing(case: str, bad: Any) -> None:
    field, call = ID_FIELDS[case]
    outcome, store = await _attempt(call, bad)
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == field
    assert store.writes == []
    assert invalid_id(field, bad) == outcome


@pytest.mark.parametrize("good", ["a" * 64, "Az09_-"], ids=["64 chars", "every class"])
@pytest.mark.parametrize("case", ID_FIELDS, ids=ID_FIELDS.keys())
async def test_an_id_at_the_limits_is_accepted(case: str, good: str) -> None:
    field, call = ID_FIELDS[case]
    outcome, _ = await _attempt(call, good)
    assert not isinstance(outcome, InvalidInput), outcome
    assert invalid_id(field, good) is None


AMOUNT_FIELDS: dict[str, tuple[str, Call]] = {
    "deposit.amount": ("amount", lambda j, v: j.deposit("bob", "d1", v)),
    "buy.max_price": ("max_price", lambda j, v: j.buy("alice", CAMPAIGN, v)),
    "create_campaign.min_price": ("min_price",
                                  lambda j, v: j.create_campaign("camp2", OWNER, v, 60)),
}

BAD_AMOUNTS: dict[str, object] = {
    "zero": 0,
    "negative": -1,
    "float": 1.5,
    "integral float": 100.0,
    "bool": True,
    "over MAX_MONEY": MAX_MONEY + 1,
    "text": "100",
    "none": None,
}


@pytest.mark.parametrize("bad", BAD_AMOUNTS.values(), ids=BAD_AMOUNTS.keys())
@pytest.mark.parametrize("case", AMOUNT_FIELDS, ids=AMOUNT_FIELDS.keys())
async def test_a_bad_amount_is_invalid_input_and_writes_nothing(case: str, bad: Any) -> None:
    field, call = AMOUNT_FIELDS[case]
    outcome, store = await _attempt(call, bad)
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == field
    assert store.writes == []


@pytest.mark.parametrize("good", [1, MAX_MONEY], ids=["one", "MAX_MONEY"])
@pytest.mark.parametrize("case", AMOUNT_FIELDS, ids=AMOUNT_FIELDS.keys())
async def test_an_amount_at_the_limits_is_accepted(case: str, good: int) -> None:
    _, call = AMOUNT_FIELDS[case]
    outcome, _ = await _attempt(call, good)
    assert not isinstance(outcome, InvalidInput), outcome


@pytest.mark.parametrize("bad", [0, -60, MAX_SLOT_SECONDS + 1, 60.0, True],
                         ids=["zero", "negative", "over MAX_SLOT_SECONDS", "float", "bool"])
async def test_slot_seconds_out_of_range_is_invalid_input(bad: Any) -> None:
    outcome, store = await _attempt(lambda j, v: j.create_campaign("camp2", OWNER, 100, v), bad)
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == "slot_seconds"
    assert store.writes == []


@pytest.mark.parametrize("good", [1, MAX_SLOT_SECONDS])
async def test_slot_seconds_at_the_limits_is_accepted(good: int) -> None:
    outcome, _ = await _attempt(lambda j, v: j.create_campaign("camp2", OWNER, 100, v), good)
    assert outcome == Created("campaign", "camp2")


def _text(j: Journal, v: Any) -> Awaitable[object]:
    return j.upload_filler("alice", "ad2", v)


def _link(j: Journal, v: Any) -> Awaitable[object]:
    return j.upload_filler("alice", "ad2", "hi", link=v)


def _image(j: Journal, v: Any) -> Awaitable[object]:
    return j.upload_filler("alice", "ad2", "hi", image=v)


def _content_type(j: Journal, v: Any) -> Awaitable[object]:
    return j.upload_filler("alice", "ad2", "hi", content_type=v)


FILLER_TEXTS: dict[str, tuple[str, Call, object]] = {
    "empty text": ("text", _text, ""),
    "long text": ("text", _text, "x" * (MAX_FILLER_TEXT + 1)),
    "text not str": ("text", _text, 5),
    "control characters in text": ("text", _text, "buy\x1b[31m now"),
    "a newline in text": ("text", _text, "a\nb"),
    "a bidi override in text": ("text", _text, "buy \u202egnp.exe"),
    "a zero-width space in text": ("text", _text, "fr\u200bee"),
    "a line separator in text": ("text", _text, "a\u2028b"),
    "long link": ("link", _link, "x" * (MAX_FILLER_LINK + 1)),
    "javascript: link": ("link", _link, "javascript:alert(1)"),
    "a JavaScript: link in capitals": ("link", _link, "JavaScript:alert(1)"),
    "a javascript: link behind a tab": ("link", _link, "java\tscript:alert(1)"),
    "a vbscript: link": ("link", _link, "vbscript:msgbox(1)"),
    "data: link": ("link", _link, "data:text/html,<script>alert(1)</script>"),
    "a data: image link": ("link", _link, "data:image/svg+xml;base64,PHN2Zz4="),
    "relative link": ("link", _link, "/evil"),
    "a protocol-relative link": ("link", _link, "//evil.example/"),
    "a link without a host": ("link", _link, "https:///evil"),
    "link with credentials": ("link", _link, "https://user:pw@bank.example/"),
    "a link with a user only": ("link", _link, "https://bank.example@evil.example/"),
    "a link with a bad port": ("link", _link, "https://a.example:99999/"),
    "link with a space": ("link", _link, "https://a.example/x y"),
    "a link with a leading space": ("link", _link, " https://a.example/"),
    "a bidi override in a link": ("link", _link, "https://a.example/\u202efdp.exe"),
    "long image": ("image", _image, png_of_length(MAX_FILLER_IMAGE + 1)),
    "image not an image": ("image", _image, b"not an image!!"),
    "image as text": ("image", _image, "iVBORw0KGgo="),
    "a content type without an image": ("content_type", _content_type, "image/png"),
}


@pytest.mark.parametrize("case", FILLER_TEXTS, ids=FILLER_TEXTS.keys())
async def test_a_filler_out_of_bounds_is_invalid_input(case: str) -> None:
    field, call, bad = FILLER_TEXTS[case]
    outcome, store = await _attempt(call, bad)
    assert isinstance(outcome, InvalidInput)
    assert outcome.field == field
    assert store.writes == []


async def test_a_filler_at_every_limit_is_accepted() -> None:
    outcome, _ = await _attempt(
        lambda j, v: j.upload_filler("alice", "ad2", "t" * MAX_FILLER_TEXT,
                                     link="https://" + "l" * (MAX_FILLER_LINK - 8), image=v),
        png_of_length(MAX_FILLER_IMAGE))
    assert outcome == Created("filler", "ad2")


PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a non-joiner
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of three, joined


@pytest.mark.parametrize("text", ["Kites 50% off!", "Drachen für 5 €", "凧 ☺ 🪁",
                                  "עפיפונים", FAMILY, PERSIAN])
async def test_plain_text_in_any_script_is_accepted(text: str) -> None:
    outcome, _ = await _attempt(lambda j, v: j.upload_filler("alice", "ad2", v), text)
    assert outcome == Created("filler", "ad2")


MISSING: dict[str, tuple[Missing, Call]] = {
    "buy, unknown user": (Missing("user", "nobody"), lambda j, v: j.buy(v, CAMPAIGN, 1000)),
    "buy, unknown campaign": (Missing("campaign", "nocamp"),
                              lambda j, v: j.buy("alice", v, 1000)),
    "buy, unknown filler": (Missing("filler", "noad"),
                            lambda j, v: j.buy("alice", CAMPAIGN, 1000, filler=v)),
    "buy, another user's filler": (Missing("filler", "bobad"),
                                   lambda j, v: j.buy("alice", CAMPAIGN, 1000, filler=v)),
    "create_campaign, unknown owner": (Missing("user", "nobody"),
                                       lambda j, v: j.create_campaign("camp2", v, 100, 60)),
    "deposit, unknown user": (Missing("user", "nobody"), lambda j, v: j.deposit(v, "d1", 10)),
    "upload_filler, unknown user": (Missing("user", "nobody"),
                                    lambda j, v: j.upload_filler(v, "ad2", "hi")),
}


@pytest.mark.parametrize("case", MISSING, ids=MISSING.keys())
async def test_an_unknown_user_campaign_or_filler_is_missing_and_writes_nothing(case: str) -> None:
    missing, call = MISSING[case]
    outcome, store = await _attempt(call, missing.ident)
    assert outcome == missing
    assert store.writes == []
