"""The simulated world of one seed: a few users and campaigns, so races are frequent, and
the actors that race on them: buyers, depositors, logins and posse members (money out's
actors are in ``_money.py``)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from services.journal import Check, Created, Deposited, Journal, JournalError, Resolution
from services.store import InDoubt, Unavailable

from ._money import credit_all, pay_round
from ._rail import SimRail
from ._scheduler import Scheduler


@dataclass(frozen=True, slots=True)
class Shape:
    """How big one seed's world is (drawn from the seed)."""

    users: int
    campaigns: int
    posse: int

    @classmethod
    def draw(cls, rng: random.Random) -> Shape:
        return cls(users=rng.randint(2, 4), campaigns=rng.randint(1, 3), posse=rng.randint(1, 2))

    def uids(self) -> list[str]:
        return [f"u{i}" for i in range(self.users)]

    def cids(self) -> list[str]:
        return [f"c{i}" for i in range(self.campaigns)]

    def everyone(self) -> list[str]:
        """Every account: the campaigns' owner (the seller) and the buyers."""
        return ["owner", *self.uids()]


async def set_up(journal: Journal, shape: Shape, rng: random.Random) -> None:
    """Accounts, campaigns, fillers and opening balances, without faults."""
    results = [await journal.create_account("owner")]
    for uid in shape.uids():
        results.append(await journal.create_account(uid))
        results.append(await journal.upload_filler(uid, "ad", f"ad of {uid}"))
    for cid in shape.cids():
        slot_seconds = rng.choice((1, 2, 5))
        results.append(await journal.create_campaign(cid, "owner", rng.choice((1, 5, 10)),
                                                     slot_seconds))
    assert all(isinstance(r, Created) for r in results), results
    for uid in shape.uids():
        opened = await journal.deposit(uid, "opening", rng.randint(20, 400))
        assert isinstance(opened, Deposited), opened


Tally = Counter[str]
"""How many of each outcome an actor saw (by outcome name)."""


def _name(outcome: object) -> str:
    return outcome.name if isinstance(outcome, Resolution) else type(outcome).__name__


async def buyer(sched: Scheduler, journal: Journal, rng: random.Random, uid: str,
                cids: list[str]) -> Tally:
    tally: Tally = Counter()
    for _ in range(rng.randint(1, 4)):
        await sched.sleep(rng.randint(0, 400))
        outcome = await journal.buy(uid, rng.choice(cids), rng.choice((5, 20, 60, 10_000)),
                                    rng.choice(("ad", None)), keep_trying=rng.random() < 0.5)
        tally[_name(outcome)] += 1
    return tally


async def depositor(sched: Scheduler, journal: Journal, rng: random.Random, uid: str) -> Tally:
    tally: Tally = Counter()
    for _ in range(rng.randint(1, 2)):
        await sched.sleep(rng.randint(0, 800))
        # A small pool of ids, so replays of one deposit id happen: mostly of the same
        # deposit (a duplicate), sometimes with another amount (a used id: AlreadyExists).
        deposit_id = rng.choice(("d1", "d2", "d3"))
        amount = 10 * int(deposit_id[1:]) if rng.random() < 0.8 else rng.randint(1, 100)
        tally[_name(await journal.deposit(uid, deposit_id, amount))] += 1
    return tally


async def login(sched: Scheduler, journal: Journal, rng: random.Random, uid: str) -> Tally:
    await sched.sleep(rng.randint(0, 1500))
    return Counter({f"login {_name(await journal.login(uid))}": 1})


async def posse_member(sched: Scheduler, journal: Journal, rng: random.Random,
                       cids: list[str], writers_active: Callable[[], bool]) -> None:
    while writers_active():
        for cid in cids:
            try:
                await journal.check_campaign(cid)
            except (Unavailable, InDoubt, JournalError):
                continue  # as the recovery service does: logged, retried on the next tick
        await sched.sleep(rng.randint(100, 600))


async def recover_to_quiescence(sched: Scheduler, journal: Journal, shape: Shape,
                                rail: SimRail, late_ms: int) -> bool:
    """After the writers: let every in-flight write land, then run posse checks, resolve
    every locked account, credit every campaign and pay (the rail answering now) until
    nothing moves. False if it never settles."""
    await sched.sleep(late_ms + 1)
    rail.faulty = False
    for _ in range(50):
        moved = False
        for cid in shape.cids():
            check: Check = await journal.check_campaign(cid)
            moved = moved or check.repaired is not None
        for uid in shape.everyone():
            moved = moved or await journal.resolve_account(uid) is not Resolution.CLEAN
        moved = await credit_all(journal, shape.cids()) or moved
        moved = await pay_round(journal, rail, shape.everyone(), "recovery") or moved
        if not moved:
            return True
    return False
