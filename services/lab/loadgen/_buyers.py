"""``run_buyers``: concurrent buyers on one event loop, each buying until the run's attempts
are used up, and what they saw.

Buyers own disjoint sets of accounts while there are at least as many users as buyers, so a
buyer never finds its account locked by another buyer's purchase (extra buyers share accounts
and then meet ``AccountBusy`` and resolver waits). Mind the price rule: every purchase queues a
slot of ``slot_seconds`` after the last one and the price doubles on each, so with a real
clock a campaign sells a burst of about log2(max_price / min_price) slots (40 for the default
``MAX_PRICE`` and a min price of 1), then answers ``PriceAboveMax`` until its queue of slots has
mostly played out. Spread purchases over campaigns, or give the journal a fast clock
(``warped_context``) to measure the store rather than the price rule.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from services.journal import Bought, Journal, LostRace

from ._percentiles import nearest_rank
from ._world import MAX_PRICE


@dataclass
class LoadStats:
    """What the buyers saw. ``attempts == bought + lost_races + sum(others.values())``."""

    attempts: int = 0
    bought: int = 0
    lost_races: int = 0
    others: Counter[str] = field(default_factory=Counter)  # outcome class name -> count
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # one per attempt

    @property
    def purchases_per_s(self) -> float:
        """Slots bought per second of the run."""
        return self.bought / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def attempts_per_s(self) -> float:
        return self.attempts / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latency_ms(self, percent: float) -> float:
        """The ``percent`` percentile (nearest rank) of the attempts' latencies; NaN if none."""
        found = nearest_rank(self.latencies_ms, percent)
        return math.nan if found is None else found

    def record(self, outcome: object, latency_ms: float) -> None:
        self.attempts += 1
        self.latencies_ms.append(latency_ms)
        if isinstance(outcome, Bought):
            self.bought += 1
        elif isinstance(outcome, LostRace):
            self.lost_races += 1
        else:
            self.others[type(outcome).__name__] += 1

    @classmethod
    def combined(cls, parts: Iterable[LoadStats]) -> LoadStats:
        """Runs that went on at the same time (e.g. in several processes): counts added,
        elapsed the longest of them."""
        total = cls()
        for part in parts:
            total.attempts += part.attempts
            total.bought += part.bought
            total.lost_races += part.lost_races
            total.others.update(part.others)
            total.elapsed_s = max(total.elapsed_s, part.elapsed_s)
            total.latencies_ms.extend(part.latencies_ms)
        return total


ProgressCallback = Callable[[LoadStats], None]


@dataclass
class _Run:
    journal: Journal
    purchases: int
    max_price: int
    deadline: float | None  # time.perf_counter() value
    stats: LoadStats
    started: int = 0  # attempts handed out

    def next_ticket(self) -> bool:
        if self.started >= self.purchases:
            return False
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return False
        self.started += 1
        return True


async def run_buyers(
    journal: Journal, buyers: int, purchases: int, campaigns: Sequence[str], *,
    users: Sequence[str], hot: bool = False, max_price: int = MAX_PRICE,
    deadline_s: float | None = None, seed: int = 0,
    on_progress: ProgressCallback | None = None, progress_every_s: float = 1.0,
) -> LoadStats:
    """Run ``buyers`` concurrent tasks that buy until ``purchases`` attempts were made in all
    (or ``deadline_s`` seconds have passed). Each attempt is one
    ``journal.buy(uid, cid, max_price, keep_trying=False)``: the buyer's next account of
    ``users`` and either ``campaigns[0]`` (``hot``) or a campaign chosen uniformly. Calls
    ``on_progress`` with the stats so far every ``progress_every_s`` seconds."""
    if buyers < 1 or purchases < 0 or not campaigns or not users:
        raise ValueError("need at least one buyer, one campaign and one user")
    start = time.perf_counter()
    deadline = None if deadline_s is None else start + deadline_s
    run = _Run(journal, purchases, max_price, deadline, LoadStats())
    ticker = (asyncio.create_task(_tick(run, start, on_progress, progress_every_s))
              if on_progress is not None else None)
    try:
        async with asyncio.TaskGroup() as group:
            for i in range(buyers):
                accounts = accounts_of(i, buyers, users)
                group.create_task(_buyer(run, accounts, campaigns, hot, random.Random(seed + i)))
    finally:
        if ticker is not None:
            ticker.cancel()
    run.stats.elapsed_s = time.perf_counter() - start
    return run.stats


def accounts_of(i: int, buyers: int, users: Sequence[str]) -> Sequence[str]:
    """Buyer ``i``'s accounts: a disjoint share while users suffice, else one shared one."""
    if buyers <= len(users):
        return users[i::buyers]
    return [users[i % len(users)]]


async def _buyer(
    run: _Run, accounts: Sequence[str], campaigns: Sequence[str], hot: bool, rng: random.Random
) -> None:
    turn = 0
    while run.next_ticket():
        uid = accounts[turn % len(accounts)]
        turn += 1
        cid = campaigns[0] if hot else rng.choice(campaigns)
        began = time.perf_counter()
        outcome = await run.journal.buy(uid, cid, max_price=run.max_price, keep_trying=False)
        run.stats.record(outcome, (time.perf_counter() - began) * 1000)
        # The other buyers' turn, as a server's next request comes through its loop: on a
        # store whose operations do not suspend (sqlite, used inline) a purchase never yields,
        # and one buyer would otherwise buy on alone until a store operation had to wait.
        await asyncio.sleep(0)


async def _tick(run: _Run, start: float, report: ProgressCallback, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        run.stats.elapsed_s = time.perf_counter() - start
        report(run.stats)
