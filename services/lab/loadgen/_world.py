"""``set_up``: a fresh world for buyers: an owner, users with opening deposits, campaigns."""

from __future__ import annotations

from dataclasses import dataclass

from services.journal import (
    MAX_MONEY,
    AlreadyExists,
    Created,
    CreateOutcome,
    Deposited,
    DepositOutcome,
    Journal,
)

MAX_PRICE = 10**12
"""The most a load buyer pays for a slot: far above any price a campaign reaches while its
slots are not queued far into the future (see ``run_buyers``), far below ``MAX_MONEY``."""


class SetupError(Exception):
    """The world could not be created (its ids are taken, the store failed, bad input)."""


@dataclass(frozen=True, slots=True)
class World:
    """What ``set_up`` created; every id starts with ``prefix``."""

    prefix: str
    owner: str
    users: tuple[str, ...]
    campaigns: tuple[str, ...]
    balance: int  # each user's opening deposit


def balance_for(users: int) -> int:
    """An opening balance per user so that all of them together hold at most ``MAX_MONEY``."""
    return MAX_MONEY // max(users, 1)


def user_id(prefix: str, i: int) -> str:
    return f"{prefix}u{i:04d}"


def campaign_id(prefix: str, i: int) -> str:
    return f"{prefix}c{i:04d}"


async def set_up(
    journal: Journal, users: int, campaigns: int, balance: int, *, prefix: str = "",
    min_price: int = 1, slot_seconds: int = 1,
) -> World:
    """Create ``users`` users (``<prefix>u0001``...) each with an opening deposit of
    ``balance``, an owner (``<prefix>owner``) and ``campaigns`` campaigns of the owner's
    (``<prefix>c0001``...). Refuses (``SetupError``) if any of these ids exists already:
    the owner is created first, so a taken prefix is refused before anything else is written.
    """
    if users < 1 or campaigns < 1:
        raise SetupError("a world needs at least one user and one campaign")
    owner = f"{prefix}owner"
    _created(await journal.create_account(owner))
    uids = tuple(user_id(prefix, i) for i in range(1, users + 1))
    for uid in uids:
        _created(await journal.create_account(uid))
        _deposited(await journal.deposit(uid, "opening", balance))
    cids = tuple(campaign_id(prefix, i) for i in range(1, campaigns + 1))
    for cid in cids:
        _created(await journal.create_campaign(cid, owner, min_price, slot_seconds))
    return World(prefix, owner, uids, cids, balance)


def _created(outcome: CreateOutcome) -> None:
    if isinstance(outcome, Created):
        return
    if isinstance(outcome, AlreadyExists):
        raise SetupError(f"{outcome.kind} {outcome.ident!r} already exists: the store already "
                         f"holds a world with these ids (use another prefix)")
    raise SetupError(f"could not create the world: {outcome}")


def _deposited(outcome: DepositOutcome) -> None:
    if not isinstance(outcome, Deposited):
        raise SetupError(f"opening deposit failed: {outcome}")
