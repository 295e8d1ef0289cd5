"""What the money-out tests of recovery share: a settable clock, a journal on a memory store
with a funded user who asked for withdrawals, and a scripted payout rail."""

from __future__ import annotations

from services.journal import (
    Journal,
    JournalContext,
    PayoutState,
    Timing,
    Withdrawal,
    WithdrawalRequested,
)
from services.payouts import Paid, PayoutOrder, RailAnswer
from services.store import DocumentStore, MemoryStore

FAST = Timing(posse_wait_ms=5, resolve_grace_ms=50, resolve_poll_ms=5)
START_MS = 1_700_000_000_000


class Clock:
    """The journal's clock, moved by the test."""

    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def journal_on(store: DocumentStore | None = None, clock: Clock | None = None) -> Journal:
    return Journal(store if store is not None else MemoryStore(),
                   JournalContext(clock=clock if clock is not None else Clock(), timing=FAST))


async def with_withdrawals(journal: Journal, *wids: str, uid: str = "alice",
                           balance: int = 1000, amount: int = 100) -> None:
    """``uid`` funded with ``balance``, then each of ``wids`` asked for ``amount``."""
    await journal.create_account(uid)
    await journal.deposit(uid, "d1", balance)
    for wid in wids:
        outcome = await journal.withdraw(uid, wid, amount, f"IBAN-{uid}")
        assert isinstance(outcome, WithdrawalRequested), outcome


async def withdrawal(journal: Journal, wid: str, uid: str = "alice") -> Withdrawal:
    found = await journal.get_withdrawal(uid, wid)
    assert isinstance(found, Withdrawal), found
    return found


async def state_of(journal: Journal, wid: str, uid: str = "alice") -> PayoutState:
    return (await withdrawal(journal, wid, uid)).state


class ScriptedRail:
    """A rail answering from ``script`` in order, then Paid with a reference per key (the
    same one each time); every order it was handed is in ``orders``."""

    name = "scripted"
    automatic = True

    def __init__(self, *script: RailAnswer) -> None:
        self.script = list(script)
        self.orders: list[PayoutOrder] = []

    async def pay(self, order: PayoutOrder) -> RailAnswer:
        self.orders.append(order)
        if self.script:
            return self.script.pop(0)
        return Paid(f"ref-{order.idempotency_key}")

    @property
    def keys(self) -> list[str]:
        return [order.idempotency_key for order in self.orders]
