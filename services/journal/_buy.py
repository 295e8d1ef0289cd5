"""``buy``: the purchase of the next slot of a campaign, as one journal op.

intent (lock the buyer with slot n and its price) -> commit (insert slot:c:n) -> finish
(receipt, debit, advance). The uncontended path costs two reads and five writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.store import (
    CasMismatch,
    Document,
    DocumentStore,
    Exists,
    InDoubt,
    NotFound,
    Unavailable,
)

from ._account import read_or_missing, unlocked_user
from ._context import JournalContext
from ._documents import (
    MAX_MONEY,
    BuyLock,
    Campaign,
    Fill,
    Filler,
    User,
    Void,
    slot_from_json,
)
from ._finish import Finished, finish_slot
from ._ids import campaign_key, check_amount, check_id, filler_key, receipt_key, slot_key, user_key
from ._outcomes import (
    AccountBusy,
    AdSizeMismatch,
    Bought,
    BuyOutcome,
    InsufficientFunds,
    Interrupted,
    JournalError,
    LostRace,
    PriceAboveMax,
    Rejected,
    Resolution,
)
from ._price import price_at, slot_window
from ._settle import settle_buy


@dataclass(frozen=True, slots=True)
class _Order:
    uid: str
    cid: str
    max_price: int
    filler: str | None
    keep_trying: bool


async def buy(
    store: DocumentStore, ctx: JournalContext, uid: str, cid: str, max_price: int,
    filler: str | None = None, keep_trying: bool = False,
) -> BuyOutcome:
    """Buy the next slot of ``cid`` for at most ``max_price``, showing ``filler`` (the id of one
    of ``uid``'s uploaded fillers, or None). With ``keep_trying``, a lost race moves on to the
    next slot while its price stays within ``max_price``. On a campaign with an ad size, a
    filler whose image is not exactly that size is AdSizeMismatch, found from the documents
    the purchase reads anyway, before anything is written; no filler is allowed anywhere."""
    try:
        order = _Order(check_id("user", uid), check_id("campaign", cid),
                       check_amount("max_price", max_price, 1, MAX_MONEY),
                       None if filler is None else check_id("filler", filler), keep_trying)
        return await _buy_rounds(store, ctx, order)
    except Rejected as rejected:
        return rejected.outcome


async def _buy_rounds(store: DocumentStore, ctx: JournalContext, order: _Order) -> BuyOutcome:
    next_slot: int | None = None  # set only by the finish_before_buy mutation
    outcome: BuyOutcome = AccountBusy(order.uid)
    user_doc = await unlocked_user(store, ctx, order.uid)
    filler = None
    if order.filler is not None:
        filler = Filler.from_json((await read_or_missing(
            store, filler_key(order.uid, order.filler), "filler", order.filler)).value)
    for round_ in range(ctx.timing.max_buy_rounds):
        if round_ > 0:
            user_doc = await unlocked_user(store, ctx, order.uid)
        campaign_doc = await read_or_missing(store, campaign_key(order.cid), "campaign",
                                             order.cid)
        campaign = Campaign.from_json(campaign_doc.value)
        if filler is not None and not filler.fits(campaign):
            return _misfit(order, campaign, filler)
        n = next_slot if next_slot is not None else campaign.head + 1
        now = ctx.clock()
        price = price_at(campaign, now)
        if price > order.max_price:
            return PriceAboveMax(price, order.max_price)
        user = User.from_json(user_doc.value)
        if user.balance < price:
            return InsufficientFunds(user.balance, price)
        start, end = slot_window(campaign, now)
        lock = BuyLock(ctx.new_id(), order.cid, n, price, order.filler, now, start, end,
                       ctx.trace_context())
        locked = await _take_lock(store, ctx, order.uid, user, lock, user_doc.cas)
        if locked is None:
            continue  # the account changed under us: read it again
        outcome = await _commit(store, ctx, order.uid, lock, campaign_doc, locked)
        if not isinstance(outcome, LostRace) or not order.keep_trying:
            return outcome
        if outcome.price > order.max_price:
            return outcome
        if not ctx.safeguards.finish_before_buy:
            next_slot = n + 1  # Mutation for the simulation only: skip ahead blindly.
    return outcome


async def _take_lock(
    store: DocumentStore, ctx: JournalContext, uid: str, user: User, lock: BuyLock, cas: int
) -> Document | None:
    """The intent: CAS the lock in; the user doc as written, or None if the CAS lost."""
    locked = User(user.balance, lock, user.last_login)
    try:
        with ctx.step("buy.intent", user=uid, campaign=lock.campaign, slot=lock.slot):
            new_cas = await store.replace(user_key(uid), locked.to_json(), cas)
    except CasMismatch:
        return None
    except InDoubt:
        # Settled by reading: only this attempt can have written its own id.
        doc = await store.get(user_key(uid))
        if not User.from_json(doc.value).locked_by(lock.attempt):
            return None
        ctx.on_step("buy.intent")
        return doc
    return Document(locked.to_json(), new_cas)


async def _commit(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: BuyLock, campaign: Document,
    locked: Document,
) -> BuyOutcome:
    fill = Fill.of(uid, lock)
    try:
        with ctx.step("buy.fill", campaign=lock.campaign, slot=lock.slot):
            await store.insert(slot_key(lock.campaign, lock.slot), fill.to_json())
    except (Exists, InDoubt) as exc:
        # Taken (by whom?) or in doubt (did ours land?): the commit key decides; in doubt we
        # fence at once, since no one else will fill this slot for this attempt.
        settled = await settle_buy(store, ctx, uid, lock, isinstance(exc, InDoubt), locked)
        if settled.resolution is Resolution.ROLLED_FORWARD:
            return _bought(lock, None)
        if isinstance(exc, InDoubt) and await _fenced_by_us(store, lock):
            return Interrupted("the store lost the purchase's commit, so it was fenced off: "
                               "nothing was charged; try again")
        return await _lost(store, ctx, lock, settled.finished)
    try:
        finished = await finish_slot(store, ctx, lock.campaign, lock.slot, slot=fill,
                                     campaign=campaign, buyer=locked)
    except (Unavailable, InDoubt, JournalError):
        return _bought(lock, None)  # committed: the posse or the next login finishes it
    balance = User.from_json(locked.value).balance - lock.price if finished.released else None
    return _bought(lock, balance)


async def _fenced_by_us(store: DocumentStore, lock: BuyLock) -> bool:
    try:
        slot = slot_from_json((await store.get(slot_key(lock.campaign, lock.slot))).value)
    except NotFound:  # only when the fence is switched off (the simulation's mutation)
        return False
    return isinstance(slot, Void) and slot.attempt == lock.attempt


def _misfit(order: _Order, campaign: Campaign, filler: Filler) -> AdSizeMismatch:
    return AdSizeMismatch(order.cid, order.filler or "", campaign.ad_width, campaign.ad_height,
                          filler.width, filler.height)


def _bought(lock: BuyLock, balance: int | None) -> Bought:
    return Bought(lock.slot, lock.price, receipt_key(lock.campaign, lock.slot), lock.start,
                  lock.end, balance, lock.bought_at)


async def _lost(store: DocumentStore, ctx: JournalContext, lock: BuyLock,
                finished: Finished | None) -> LostRace:
    """LostRace with the next slot's price: from the campaign the helping finish left or
    found (head past our slot: no read), else read."""
    if finished is not None and finished.after is not None:
        campaign = finished.after
    else:
        campaign = Campaign.from_json((await store.get(campaign_key(lock.campaign))).value)
    return LostRace(lock.slot, price_at(campaign, ctx.clock()))
