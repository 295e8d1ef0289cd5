"""The chaos: SIGKILL a purchase process, a recovery replica or the NATS server, leave it dead
for a moment, restart it, pause, and strike again.

The plan is drawn from the seed alone, so the same seed strikes the same victims in the same
order with the same down times and pauses (the moments drift a little with how long restarts
take). Each round strikes every kind once, in a shuffled order, so even a short run hits all
three, then a purchase process once more. A purchase process is struck mid-purchase on
purpose, when ``aim`` says (see ``_aim.py``): right after a purchase it serves has committed
and before it has finished, so that recovery has something to repair.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from services.lab.cluster import Cluster, ClusterError, NatsServerError

from ._clock import pause

PURCHASE, RECOVERY, NATS = "purchase", "recovery", "nats"
KINDS = (PURCHASE, RECOVERY, NATS)
WARM_UP_S = 1.0
DOWN_S = (0.5, 2.0)
PAUSE_S = (0.5, 2.0)
KEEP_EVENTS = 6


@dataclass(frozen=True)
class Strike:
    kind: str  # one of KINDS
    victim: str  # a process of the cluster, or "nats"
    down_s: float  # how long it stays dead
    pause_s: float  # before the next strike


def chaos_plan(seed: int, victims: Mapping[str, Sequence[str]]) -> Iterator[Strike]:
    """Endless strikes on ``victims`` (kind -> names; kinds without any are skipped)."""
    rng = random.Random(seed)
    kinds = [kind for kind in KINDS if victims.get(kind)]
    while kinds:
        rng.shuffle(kinds)
        for kind in [*kinds, PURCHASE] if victims.get(PURCHASE) else kinds:
            yield Strike(kind, rng.choice(list(victims[kind])), round(rng.uniform(*DOWN_S), 1),
                         round(rng.uniform(*PAUSE_S), 1))


def victims_of(cluster: Cluster) -> dict[str, list[str]]:
    names = list(cluster.children)
    return {PURCHASE: [n for n in names if n.startswith(PURCHASE)],
            RECOVERY: [n for n in names if n.startswith(RECOVERY)],
            NATS: [NATS] if cluster.nats is not None else []}


Aim = Callable[[str], Awaitable[str]]
"""Waits for the moment to strike the purchase process at this address; says what the strike
will interrupt."""


class Chaos:
    def __init__(self, cluster: Cluster, plan: Iterator[Strike], started: float,
                 aim: Aim | None = None, aim_payout: Aim | None = None) -> None:
        self.cluster = cluster
        self.plan = plan
        self.aim = aim
        self.aim_payout = aim_payout
        self.kills: Counter[str] = Counter()
        self.failures: list[str] = []  # restarts that failed (the finale tries again)
        self.events: deque[tuple[float, str]] = deque(maxlen=KEEP_EVENTS)  # (seconds in, what)
        self.stop = asyncio.Event()
        self._started = started  # time.monotonic() when the demo's clock started

    async def run(self) -> None:
        """Strike until ``stop``; every victim is started again before the next strike, and
        before this returns."""
        if await pause(self.stop, WARM_UP_S):
            return
        for strike in self.plan:
            what = await self._aim(strike)
            if self.stop.is_set():
                return
            self._kill(strike.victim)
            self._note(f"killed {strike.victim}{f' ({what})' if what else ''}")
            self.kills[strike.kind] += 1
            await pause(self.stop, strike.down_s)
            began = time.monotonic()
            if await asyncio.to_thread(self._restart, strike.victim):
                self._note(f"restarted {strike.victim} (down {strike.down_s:.1f} s, "
                           f"back in {time.monotonic() - began:.1f} s)")
            if await pause(self.stop, strike.pause_s):
                return

    async def _aim(self, strike: Strike) -> str:
        """Wait for the moment the strike is aimed at (if it is); what it will interrupt."""
        if strike.kind == PURCHASE and self.aim is not None:
            target = self.cluster.children[strike.victim].target
            return await self.aim(target) if target else ""
        if strike.kind == RECOVERY and self.aim_payout is not None:
            return await self.aim_payout(strike.victim)
        return ""

    def _kill(self, victim: str) -> None:
        """SIGKILL and reap: quick, so it runs on the loop and lands when aimed."""
        if victim == NATS:
            self.cluster.kill_nats()
        else:
            self.cluster.children[victim].kill()

    def _restart(self, victim: str) -> bool:
        problem = restart(self.cluster, victim)
        if problem is not None:
            self.failures.append(problem)
            self._note(f"restart of {victim} FAILED")
        return problem is None

    def _note(self, text: str) -> None:
        self.events.append((time.monotonic() - self._started, text))


def restart(cluster: Cluster, victim: str) -> str | None:
    """Start ``victim`` again (blocking, until it serves); None, or why it failed."""
    try:
        if victim == NATS:
            cluster.restart_nats()
        else:
            cluster.restart(victim)
    except (ClusterError, NatsServerError) as exc:
        return f"{victim}: {exc}"
    return None


def revive(cluster: Cluster) -> tuple[list[str], list[str]]:
    """Restart whatever is dead (blocking): the names restarted, and the restarts that failed."""
    dead = ([] if cluster.nats_alive() else [NATS]) + [child.name for child in cluster.dead()]
    failed = [problem for problem in (restart(cluster, name) for name in dead) if problem]
    return dead, failed
