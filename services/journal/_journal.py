"""``Journal``: the protocol's operations over one store, for services and the CLI.

The one place store failures become outcomes: each op and read a service calls returns an
outcome value, and a store that fails mid-operation (unavailable, or a write left in doubt
that the protocol cannot settle right now) gives ``Interrupted``: whatever was committed is
finished by the posse or the account's next resolve, the rest rolled back. The recovery
methods (``resolve_account``, ``finish_slot``, ``check_campaign``, ``campaigns``, ``users``)
let store errors propagate instead: their callers retry on the next tick or run.
See docs/protocol.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from services.store import DocumentStore, InDoubt, Json, Unavailable

from ._account import read_or_missing, read_user
from ._audit import audit, read_snapshot
from ._buy import buy
from ._context import JournalContext
from ._credit import credit
from ._deposit import deposit
from ._documents import Campaign, Slot, User
from ._finish import Finished, finish_slot
from ._ids import campaign_key, check_id, invalid_id, withdrawal_key
from ._index import IndexKind, list_index
from ._ledger import Books, books
from ._listings import (
    PurchaseOrder,
    campaigns_after,
    fillers_after,
    get_filler,
    purchases_before,
    slots_below,
)
from ._login import login
from ._money_out import PayoutState, Withdrawal
from ._outcomes import (
    BadCredentials,
    BuyOutcome,
    CreateOutcome,
    CreditOutcome,
    DepositOutcome,
    Interrupted,
    InvalidInput,
    JournalError,
    Missing,
    PasswordOutcome,
    RefundOutcome,
    Rejected,
    Resolution,
    Throttled,
    WithdrawOutcome,
    WrongState,
)
from ._passwords import authenticate, change_password, reset_password
from ._payout import move_payout
from ._posse import Check, check_campaign
from ._price import price_at
from ._purchases import Purchases
from ._refund import refund
from ._resolver import resolve_account
from ._setup import create_account, create_campaign, upload_filler
from ._showing import Showing, showing
from ._snapshot import Violation
from ._statement import Entry, Order, statement, user_withdrawals
from ._turns import Turns
from ._withdraw import withdraw

T = TypeVar("T")

_NO_TURNS = contextlib.nullcontext()  # a journal without turns: every purchase at once


async def _guarded(op: Awaitable[T]) -> T | Interrupted:
    try:
        return await op
    except (Unavailable, InDoubt, JournalError) as exc:
        return Interrupted(str(exc))


async def _read(op: Awaitable[T]) -> T | Missing | InvalidInput | Interrupted:
    try:
        return await _guarded(op)
    except Rejected as rejected:
        assert isinstance(rejected.outcome, Missing | InvalidInput)
        return rejected.outcome


class Journal:
    """The journal ops on ``store``, with ``context``'s clock, sleep, ids and hooks. With
    ``take_turns`` (as the services run it) this journal's purchases of one campaign run one
    at a time (``_turns.py``); without, they race as purchases in different processes do
    (the simulation's and the protocol tests' choice)."""

    def __init__(self, store: DocumentStore, context: JournalContext | None = None, *,
                 take_turns: bool = False) -> None:
        self.store = store
        self.context = context if context is not None else JournalContext()
        self.turns = Turns() if take_turns else None

    def now(self) -> int:
        """The journal's clock: milliseconds since the epoch."""
        return self.context.clock()

    async def create_account(self, uid: str, password: str | None = None) -> CreateOutcome:
        """A new account; with ``password``, set only if this call created it (see
        ``_passwords.py``)."""
        return await _guarded(create_account(self.store, self.context, uid, password))

    async def authenticate(self, uid: str, password: str
                           ) -> User | BadCredentials | Throttled | InvalidInput | Interrupted:
        """``uid``'s account if ``password`` is its password; failures are counted and
        throttled (see ``_passwords.py``)."""
        return await _guarded(authenticate(self.store, self.context, uid, password))

    async def change_password(self, uid: str, old: str, new: str) -> PasswordOutcome:
        return await _guarded(change_password(self.store, self.context, uid, old, new))

    async def reset_password(self, uid: str, new: str) -> PasswordOutcome:
        """The operator's: ``new`` without the old one."""
        return await _guarded(reset_password(self.store, self.context, uid, new))

    async def create_campaign(
        self, cid: str, owner: str, min_price: int, slot_seconds: int, ad_width: int = 0,
        ad_height: int = 0,
    ) -> CreateOutcome:
        return await _guarded(create_campaign(self.store, self.context, cid, owner, min_price,
                                              slot_seconds, ad_width, ad_height))

    async def upload_filler(
        self, uid: str, fid: str, text: str, link: str = "", image: bytes = b"",
        content_type: str = "",
    ) -> CreateOutcome:
        return await _guarded(upload_filler(self.store, self.context, uid, fid, text, link,
                                            image, content_type))

    async def deposit(self, uid: str, deposit_id: str, amount: int) -> DepositOutcome:
        return await _guarded(deposit(self.store, self.context, uid, deposit_id, amount))

    async def buy(
        self, uid: str, cid: str, max_price: int, filler: str | None = None,
        keep_trying: bool = False,
    ) -> BuyOutcome:
        async with _NO_TURNS if self.turns is None else self.turns.of(cid):
            return await _guarded(buy(self.store, self.context, uid, cid, max_price, filler,
                                      keep_trying))

    async def credit(self, cid: str) -> CreditOutcome:
        """The next run of ``cid``'s finished slots credited to its owner."""
        return await _guarded(credit(self.store, self.context, cid))

    async def withdraw(self, uid: str, wid: str, amount: int, destination: str,
                       credit_first: bool = True) -> WithdrawOutcome:
        """Withdrawal ``wid``: ``amount`` out to ``destination``; when the balance is short
        (and ``credit_first``) the shares of every campaign ``uid`` owns are credited first,
        so earnings can be taken (see ``_withdraw.py``)."""
        return await _guarded(withdraw(self.store, self.context, uid, wid, amount, destination,
                                       credit_first))

    async def move_payout(self, uid: str, wid: str, to: PayoutState, of_try: int | None = None,
                          **changes: str | int | None) -> Withdrawal | WrongState | Missing \
            | Interrupted:
        """Move withdrawal ``wid``'s payout to ``to`` (a claim, paid, failed, retry, reject);
        ``of_try``: the try the rail's answer was about (see ``move_payout``)."""
        return await _guarded(move_payout(self.store, self.context, uid, wid, to, of_try,
                                          **changes))

    async def refund(self, uid: str, wid: str) -> RefundOutcome:
        return await _guarded(refund(self.store, self.context, uid, wid))

    async def reject(self, uid: str, wid: str, reason: str) -> RefundOutcome:
        """Refuse withdrawal ``wid`` (requested or failed, never paying) and refund it."""
        moved = await self.move_payout(uid, wid, PayoutState.REJECTED, reason=reason)
        if not isinstance(moved, Withdrawal):
            return moved
        return await self.refund(uid, wid)

    async def get_withdrawal(self, uid: str, wid: str
                             ) -> Withdrawal | Missing | InvalidInput | Interrupted:
        return await _read(self._get_withdrawal(uid, wid))

    async def withdrawals(self, uid: str) -> list[str] | InvalidInput | Interrupted:
        """The ids of ``uid``'s withdrawals."""
        invalid = invalid_id("user", uid)
        return invalid if invalid is not None else await _guarded(
            user_withdrawals(self.store, uid))

    async def all_withdrawals(self) -> list[tuple[str, str]] | Interrupted:
        """Every withdrawal, as (user, withdrawal id): what the payers and the operator
        go through."""
        entries = await _guarded(list_index(self.store, IndexKind.WITHDRAWALS))
        if isinstance(entries, Interrupted):
            return entries
        return [(uid, wid) for uid, _, wid in (e.partition(":") for e in entries)]

    async def statement(self, uid: str, before: Order | None = None, count: int | None = None
                        ) -> list[Entry] | Missing | InvalidInput | Interrupted:
        """``uid``'s statement, newest first; with ``count``, enough of it for a page of
        ``count`` entries ordered before ``before`` (see ``_statement.py``)."""
        account = await self.get_account(uid)
        if not isinstance(account, User):
            return account
        return await _guarded(statement(self.store, uid, before, count))

    async def books(self) -> Books | Interrupted:
        """The operator's totals over the whole store (an audit's reads: run it quietly)."""
        snapshot = await _guarded(read_snapshot(self.store))
        return snapshot if isinstance(snapshot, Interrupted) else books(snapshot)

    async def login(self, uid: str) -> Resolution | Missing | InvalidInput | Interrupted:
        return await _guarded(login(self.store, self.context, uid))

    async def get_account(self, uid: str) -> User | Missing | InvalidInput | Interrupted:
        return await _read(self._get_account(uid))

    async def get_campaign(self, cid: str) -> Campaign | Missing | InvalidInput | Interrupted:
        return await _read(self._get_campaign(cid))

    async def list_campaigns(self, owner: str | None, after: str | None, count: int
                             ) -> list[tuple[str, Campaign]] | Missing | InvalidInput \
            | Interrupted:
        """At most ``count`` campaigns (``owner``'s, or everyone's when None) with ids above
        ``after``, in id order (see ``campaigns_after``)."""
        return await _read(campaigns_after(self.store, owner, after, count))

    async def list_slots(self, cid: str, below: int | None, count: int
                         ) -> list[tuple[int, Slot]] | Missing | InvalidInput | Interrupted:
        """At most ``count`` of ``cid``'s finished slots below ``below`` (None: from the
        head), newest first."""
        return await _read(slots_below(self.store, cid, below, count))

    async def list_fillers(self, uid: str, after: str | None, count: int
                           ) -> list[tuple[str, Json]] | Missing | InvalidInput | Interrupted:
        """At most ``count`` of ``uid``'s listed fillers with ids above ``after``, in id
        order (fillers uploaded before the per-user list existed are not listed)."""
        return await _read(fillers_after(self.store, uid, after, count))

    async def list_purchases(self, uid: str, before: PurchaseOrder | None,
                             start_page: int | None, count: int
                             ) -> Purchases | Missing | InvalidInput | Interrupted:
        """At most ``count`` of ``uid``'s listed purchases ordered before ``before`` (None:
        the newest), newest first, reading down from ``start_page`` when given (see
        ``purchases_before``)."""
        return await _read(purchases_before(self.store, uid, before, start_page, count))

    async def get_filler(self, uid: str, fid: str
                         ) -> Json | Missing | InvalidInput | Interrupted:
        return await _read(get_filler(self.store, uid, fid))

    def price_now(self, campaign: Campaign) -> int:
        return price_at(campaign, self.now())

    async def showing(self, cid: str, campaign: Campaign, now: int
                      ) -> Showing | Interrupted | None:
        """The slot of ``campaign`` showing at ``now``, with its filler (None: nothing)."""
        return await _guarded(showing(self.store, cid, campaign, now))

    async def resolve_account(self, uid: str) -> Resolution:
        """The resolver alone (no login stamp); store errors propagate."""
        return await resolve_account(self.store, self.context, uid)

    async def finish_slot(self, cid: str, n: int) -> Finished:
        return await finish_slot(self.store, self.context, cid, n)

    async def check_campaign(self, cid: str) -> Check:
        return await check_campaign(self.store, self.context, cid)

    async def campaigns(self) -> list[str]:
        """Every campaign id in the index (some may not be created yet)."""
        return await list_index(self.store, IndexKind.CAMPAIGNS)

    async def users(self) -> list[str]:
        """Every user id in the index (some may not be created yet)."""
        return await list_index(self.store, IndexKind.USERS)

    async def audit(self, quiescent: bool = False) -> list[Violation]:
        return await audit(self.store, quiescent)

    async def _get_account(self, uid: str) -> User:
        check_id("user", uid)
        return User.from_json((await read_user(self.store, uid)).value)

    async def _get_withdrawal(self, uid: str, wid: str) -> Withdrawal:
        check_id("user", uid)
        check_id("withdrawal_id", wid)
        doc = await read_or_missing(self.store, withdrawal_key(uid, wid), "withdrawal", wid)
        return Withdrawal.from_json(doc.value)

    async def _get_campaign(self, cid: str) -> Campaign:
        check_id("campaign", cid)
        doc = await read_or_missing(self.store, campaign_key(cid), "campaign", cid)
        return Campaign.from_json(doc.value)
