"""Creating what the journal ops work on: accounts, campaigns, fillers (ads).

Each is listed in its index first, then inserted, so a crash between leaves only an index
entry without a document (skipped by readers), and a retry of the same id completes it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from services.store import DocumentStore, Exists

from ._account import exists
from ._context import JournalContext
from ._credentials import check_password, hash_password
from ._documents import (
    MAX_AD_SIDE,
    MAX_FILLER_LINK,
    MAX_FILLER_TEXT,
    MAX_MONEY,
    MAX_SLOT_SECONDS,
    Campaign,
    Filler,
    User,
)
from ._ids import (
    campaign_key,
    check_amount,
    check_id,
    filler_key,
    fillers_key,
    owned_key,
    user_key,
)
from ._images import AdImage, read_image
from ._index import IndexKind, add_entry, add_to_index
from ._outcomes import (
    AlreadyExists,
    Created,
    CreateOutcome,
    InvalidImage,
    InvalidInput,
    Missing,
    Rejected,
)
from ._passwords import attach_password


async def create_account(store: DocumentStore, ctx: JournalContext, uid: str,
                         password: str | None = None) -> CreateOutcome:
    """A new account with balance 0 (money arrives by ``deposit``), and ``password`` if given:
    set only when this call's insert created the account (docs/protocol.md, "Credentials")."""
    try:
        check_id("user", uid)
        if password is not None:
            check_password("password", password)
    except Rejected as rejected:
        return _creation(rejected)
    # Hashed before anything is written, so the account and its password land close together.
    hashed = None if password is None else await hash_password(password)
    await add_to_index(store, ctx, IndexKind.USERS, uid)
    created = await _insert(store, user_key(uid), User(0, None).to_json(), "user", uid)
    if isinstance(created, Created) and hashed is not None:
        await attach_password(store, ctx, uid, hashed)
    return created


async def create_campaign(
    store: DocumentStore, ctx: JournalContext, cid: str, owner: str, min_price: int,
    slot_seconds: int, ad_width: int = 0, ad_height: int = 0,
) -> CreateOutcome:
    """A campaign of ``owner``'s: slots of ``slot_seconds``, never sold below ``min_price``,
    with the operator's fee on each sale as the policy sets it now (fixed from then on), and
    an ad size (both 0: any; else both 1 to ``MAX_AD_SIDE``) every filler bought there fits."""
    try:
        check_id("campaign", cid)
        check_id("owner", owner)
        check_amount("min_price", min_price, ctx.policy.min_campaign_price, MAX_MONEY)
        check_amount("slot_seconds", slot_seconds, 1, MAX_SLOT_SECONDS)
        _check_ad_size(ad_width, ad_height)
    except Rejected as rejected:
        return _creation(rejected)
    if not await exists(store, user_key(owner)):
        return Missing("user", owner)
    if await exists(store, campaign_key(cid)):
        return AlreadyExists("campaign", cid)
    await add_to_index(store, ctx, IndexKind.CAMPAIGNS, cid)
    # Listed under its owner before it exists; a creator that loses the insert to another
    # owner's leaves a stray entry, which every reader of the list skips (owner != uid).
    await add_entry(store, ctx, owned_key(owner), cid)
    campaign = Campaign(owner, min_price, slot_seconds, fee_bps=ctx.policy.fee_bps,
                        ad_width=ad_width, ad_height=ad_height)
    return await _insert(store, campaign_key(cid), campaign.to_json(), "campaign", cid)


async def upload_filler(
    store: DocumentStore, ctx: JournalContext, uid: str, fid: str, text: str, link: str = "",
    image: bytes = b"", content_type: str = "",
) -> CreateOutcome:
    """An ad of ``uid``'s: ``text``, a ``link`` and an ``image`` (its bytes; ``content_type``
    empty or what the image is), each checked; the image is decoded (``_images.py``) through
    ``ctx.offload``. Fillers are immutable once uploaded: a slot that shows one must show
    what was bought."""
    try:
        check_id("user", uid)
        check_id("filler", fid)
        _check_text("text", text, MAX_FILLER_TEXT, required=True)
        _check_plain("text", text)
        _check_text("link", link, MAX_FILLER_LINK)
        _check_link(link)
        checked = await _checked_image(ctx, image, content_type)
    except Rejected as rejected:
        return _creation(rejected)
    if not await exists(store, user_key(uid)):
        return Missing("user", uid)
    await add_to_index(store, ctx, IndexKind.FILLERS, f"{uid}:{fid}")
    # Also listed under its user, so a user's fillers are read without the global index.
    await add_entry(store, ctx, fillers_key(uid), fid)
    filler = Filler.of(text, link, image, *checked) if checked else Filler(text, link)
    return await _insert(store, filler_key(uid, fid), filler.to_json(), "filler", fid)


async def _checked_image(ctx: JournalContext, image: bytes, content_type: str
                         ) -> tuple[str, int, int] | None:
    """The image's (media type, width, height), None without one; Rejected if it is bad."""
    if not isinstance(image, bytes) or not isinstance(content_type, str):
        raise Rejected(InvalidImage("image", "must be bytes, with a text content type"))
    if not image:
        if content_type:
            raise Rejected(InvalidImage("content_type", "must be empty without an image"))
        return None
    found: AdImage = await ctx.offload(lambda: read_image(image, content_type))
    return found.content_type, found.width, found.height


def _check_ad_size(width: int, height: int) -> None:
    """Both 0 (any size), or both 1 to ``MAX_AD_SIDE``."""
    if (width, height) == (0, 0):
        return
    for name, side in (("ad_width", width), ("ad_height", height)):
        if not isinstance(side, int) or isinstance(side, bool) or not 1 <= side <= MAX_AD_SIDE:
            raise Rejected(InvalidInput(name, f"must be 1 to {MAX_AD_SIDE} pixels, or 0 "
                                              "with the other side 0 too (any size)"))


def _check_text(field: str, value: object, limit: int, required: bool = False) -> None:
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        need = "1" if required else "0"
        raise Rejected(InvalidInput(field, f"must be text of {need} to {limit} characters"))


_JOINERS = frozenset("\u200c\u200d")
"""Zero-width non-joiner and joiner: how Persian is spelled and emoji are combined; neither
moves text around, so plain text may have them."""
_NOT_PLAIN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # Unicode categories


def _check_plain(field: str, text: str) -> None:
    """Plain text: shown as is, so one line of visible characters: no control or format
    characters (no newlines, no escapes, no bidi overrides or invisible spaces to disguise
    it; the joiners excepted) and no line or paragraph separators."""
    if any(c not in _JOINERS and unicodedata.category(c) in _NOT_PLAIN for c in text):
        raise Rejected(InvalidInput(field, "must be plain text: no control characters"))



def _check_link(link: str) -> None:
    """Empty, or an http(s) URL with a host and no credentials: never javascript:, data:,
    a relative path, or a user:password@ to trick a reader."""
    if not link:
        return
    try:
        parts = urlsplit(link)
        host = parts.hostname
        parts.port  # noqa: B018 - only to refuse a port that is not one (it raises)
    except ValueError:
        host = None
    if (host is None or parts.scheme not in ("http", "https") or parts.username is not None
            or parts.password is not None
            or any(c.isspace() or unicodedata.category(c).startswith("C") for c in link)):
        raise Rejected(InvalidInput("link", "must be an http(s) URL with a host and no "
                                            "credentials, or empty"))


def _creation(rejected: Rejected) -> CreateOutcome:
    outcome = rejected.outcome
    assert isinstance(outcome, InvalidInput | Missing)
    return outcome


async def _insert(
    store: DocumentStore, key: str, value: dict[str, object], kind: str, ident: str
) -> CreateOutcome:
    try:
        await store.insert(key, value)
    except Exists:
        return AlreadyExists(kind, ident)
    return Created(kind, ident, value)
