"""The money-out actors of one seed: creditors (as the posse credits sellers), withdrawers
(replaying a small pool of withdrawal ids), payers (claim, call the simulated rail, record
what it said; re-drive what is still paying) and an operator (rejects, which refunds, and
retries)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

from services.journal import (
    Credited,
    Journal,
    PayoutState,
    Refunded,
    Withdrawal,
    idempotency_key_of,
)

from ._rail import Answer, SimRail
from ._scheduler import Scheduler

WITHDRAWAL_IDS = ("w1", "w2", "w3")
Tally = Counter[str]


def _name(outcome: object) -> str:
    return type(outcome).__name__


async def creditor(sched: Scheduler, journal: Journal, rng: random.Random, cids: list[str],
                   writers_active: Callable[[], bool]) -> Tally:
    tally: Tally = Counter()
    while writers_active():
        for cid in cids:
            tally[f"credit {_name(await journal.credit(cid))}"] += 1
        await sched.sleep(rng.randint(100, 900))
    return tally


async def withdrawer(sched: Scheduler, journal: Journal, rng: random.Random, uid: str) -> Tally:
    tally: Tally = Counter()
    for _ in range(rng.randint(1, 2)):
        await sched.sleep(rng.randint(0, 1200))
        outcome = await journal.withdraw(uid, rng.choice(WITHDRAWAL_IDS), rng.choice((1, 5, 30)),
                                         rng.choice(("bank-1", "bank-2")),
                                         credit_first=rng.random() < 0.5)
        tally[f"withdraw {_name(outcome)}"] += 1
    return tally


async def payer(sched: Scheduler, journal: Journal, rail: SimRail, rng: random.Random,
                uids: list[str], name: str, writers_active: Callable[[], bool]) -> None:
    while writers_active():
        await pay_round(journal, rail, uids, name)
        await sched.sleep(rng.randint(100, 700))


async def pay_round(journal: Journal, rail: SimRail, uids: list[str], name: str) -> bool:
    """One pass over every withdrawal; True if anything moved."""
    moved = False
    for uid in uids:
        for wid in WITHDRAWAL_IDS:
            found = await journal.get_withdrawal(uid, wid)
            if isinstance(found, Withdrawal):
                moved = await _pay(journal, rail, uid, wid, found, name) or moved
    return moved


async def _pay(journal: Journal, rail: SimRail, uid: str, wid: str, w: Withdrawal,
               name: str) -> bool:
    if w.state is PayoutState.REJECTED:
        return isinstance(await journal.refund(uid, wid), Refunded)
    if w.state is PayoutState.REQUESTED:
        stamp = journal.now()
        claimed = await journal.move_payout(uid, wid, PayoutState.PAYING, payer=name,
                                            claimed_at=stamp)
        if not isinstance(claimed, Withdrawal) or (claimed.payer, claimed.claimed_at) != (
                name, stamp):
            return False
        w = claimed
    if w.state is not PayoutState.PAYING:
        return False
    # Ours just now, or claimed before by a payer that may have died: paid again with the
    # same key, which the rail answers with the one payment it made for it.
    answer, reference = rail.pay(idempotency_key_of(uid, wid, w.tries))
    if answer is Answer.PAID:
        return isinstance(await journal.move_payout(uid, wid, PayoutState.PAID, w.tries,
                                                    reference=reference), Withdrawal)
    if answer is Answer.REFUSED:
        return isinstance(await journal.move_payout(uid, wid, PayoutState.FAILED, w.tries,
                                                    reason="refused by the rail"), Withdrawal)
    return False


async def operator(sched: Scheduler, journal: Journal, rng: random.Random,
                   uids: list[str]) -> Tally:
    """Rounds over every withdrawal: a failed one is retried or rejected, a requested one
    sometimes rejected (and so refunded); a paying one is tried too, and must be refused."""
    tally: Tally = Counter()
    for _ in range(rng.randint(1, 4)):
        await sched.sleep(rng.randint(200, 1500))
        for uid in uids:
            for wid in WITHDRAWAL_IDS:
                found = await journal.get_withdrawal(uid, wid)
                if not isinstance(found, Withdrawal) or rng.random() < 0.5:
                    continue
                if found.state is PayoutState.FAILED and rng.random() < 0.7:
                    outcome: object = await journal.move_payout(uid, wid, PayoutState.REQUESTED)
                    tally[f"retry {_name(outcome)}"] += 1
                elif found.state is not PayoutState.REQUESTED or rng.random() < 0.3:
                    outcome = await journal.reject(uid, wid, "refused by the operator")
                    tally[f"reject {_name(outcome)}"] += 1
    return tally


async def credit_all(journal: Journal, cids: list[str]) -> bool:
    """Credit every campaign as far as it goes; True if anything was credited."""
    moved = False
    for cid in cids:
        moved = isinstance(await journal.credit(cid), Credited) or moved
    return moved
