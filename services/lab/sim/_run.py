"""One seed, start to end: set up, race and crash, recover to quiescence, audit."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from services.journal import (
    Journal,
    JournalContext,
    Policy,
    Safeguards,
    Snapshot,
    Timing,
    check_invariants,
    write_alone,
)

from ._checks import InvariantBroken, InvariantChecker
from ._money import creditor, operator, payer, withdrawer
from ._rail import SimRail
from ._scheduler import ActorFailed, Faults, Scheduler, TraceLine
from ._store import SimStore
from ._world import (
    Shape,
    buyer,
    depositor,
    login,
    posse_member,
    recover_to_quiescence,
    set_up,
)

SIM_POLICY = Policy(purchase_page=2)
"""Purchase lists of two entries a page, so that the few purchases of a seed's buyers fill
pages and creditors seal them (and crash around it)."""
T = TypeVar("T")


async def _inline(work: Callable[[], T]) -> T:
    """CPU work (an ad's image) runs in the actor itself: the simulation has no threads."""
    return work()


@dataclass
class SeedResult:
    seed: int
    failure: str | None = None
    trace: list[TraceLine] = field(default_factory=list)
    crash_points: dict[str, int] = field(default_factory=dict)
    ops: int = 0
    checks: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failure is None


def run_seed(seed: int, safeguards: Safeguards | None = None,
             faults: Faults | None = None) -> SeedResult:
    """Run one seed; a failure names the broken invariant (or the bug) and keeps the trace."""
    faults = faults if faults is not None else _draw_faults(seed)
    sched = Scheduler(seed, faults)
    checker = InvariantChecker()
    sched.observers.append(checker)
    ctx = JournalContext(clock=sched.clock, sleep=sched.sleep, new_id=sched.new_id,
                 on_step=sched.on_step, offload=_inline, timing=Timing(),
                 safeguards=safeguards if safeguards is not None else Safeguards(),
                 policy=SIM_POLICY, group_writes=write_alone)
    journal = Journal(SimStore(sched), ctx)
    rng = random.Random(f"world-{seed}")
    shape = Shape.draw(rng)
    result = SeedResult(seed)
    rail = SimRail(random.Random(f"rail-{seed}"))
    try:
        result.outcomes = _race(sched, journal, shape, rng, rail, faults)
        _audit_quiescent(sched, rail)
    except (InvariantBroken, ActorFailed) as exc:
        result.failure = str(exc)
    result.trace, result.crash_points = sched.trace, sched.crash_points
    result.ops, result.checks = sched.ops, checker.checks
    return result


def _race(sched: Scheduler, journal: Journal, shape: Shape, rng: random.Random,
          rail: SimRail, faults: Faults) -> Counter[str]:
    sched.spawn("setup", set_up(journal, shape, rng), faulty=False)
    sched.run()
    cids = shape.cids()
    writers = []
    for uid in shape.uids():
        for k in range(rng.randint(1, 2)):
            writers.append(sched.spawn(f"buy-{uid}.{k}",
                                       buyer(sched, journal, _rng(rng), uid, cids)))
        if rng.random() < 0.6:
            writers.append(sched.spawn(f"dep-{uid}", depositor(sched, journal, _rng(rng), uid)))
        if rng.random() < 0.6:
            writers.append(sched.spawn(f"login-{uid}", login(sched, journal, _rng(rng), uid)))
    for uid in shape.everyone():
        if rng.random() < 0.5:
            writers.append(sched.spawn(f"withdraw-{uid}",
                                       withdrawer(sched, journal, _rng(rng), uid)))
    if rng.random() < 0.7:
        writers.append(sched.spawn("operator", operator(sched, journal, _rng(rng),
                                                        shape.everyone())))

    def writers_active() -> bool:
        return not all(w.done for w in writers)

    for i in range(shape.posse):
        sched.spawn(f"posse-{i}", posse_member(sched, journal, _rng(rng), cids, writers_active))
        sched.spawn(f"creditor-{i}", creditor(sched, journal, _rng(rng), cids, writers_active))
        sched.spawn(f"payer-{i}", payer(sched, journal, rail, _rng(rng), shape.everyone(),
                                        f"payer-{i}", writers_active))
    sched.run()
    recovery = sched.spawn("recovery",
                           recover_to_quiescence(sched, journal, shape, rail,
                                                 faults.max_late_ms),
                           faulty=False)
    sched.run()
    if recovery.result is not True:
        raise ActorFailed("recovery did not reach quiescence in 50 rounds")
    outcomes: Counter[str] = Counter()
    for writer in writers:
        if writer.result is not None:
            outcomes.update(writer.result)
    outcomes["crashed actors"] = sum(a.crashed for a in sched.actors)
    return outcomes


def _audit_quiescent(sched: Scheduler, rail: SimRail) -> None:
    snapshot = Snapshot.from_documents((key, value) for key, value, _ in sched.state.items())
    found = check_invariants(snapshot, quiescent=True) + rail.check(snapshot)
    if found:
        raise InvariantBroken(found)


HEAVY = Faults(crash=0.04, in_doubt=0.12, unavailable=0.01, pause=0.03)


def _draw_faults(seed: int) -> Faults:
    """Most seeds get the usual rates; a third get heavy ones, so that rare paths (a crash
    right after a fence, after releasing a void) are reached often."""
    return HEAVY if random.Random(f"faults-{seed}").random() < 1 / 3 else Faults()


def _rng(parent: random.Random) -> random.Random:
    return random.Random(parent.getrandbits(64))
