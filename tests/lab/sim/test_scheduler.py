"""The scheduler's faults mean what they say: a crashed actor never runs again; an in-doubt
write is applied, lost, or lands later; a paused actor lets others go first."""

from __future__ import annotations

import pytest

from services.lab.sim import NO_FAULTS, Faults, Scheduler
from services.lab.sim._store import SimStore
from services.store import InDoubt, NotFound


async def _two_writes(store: SimStore, log: list[str]) -> None:
    try:
        await store.insert("k1", {"n": 1})
        log.append("k1 ok")
    except InDoubt:
        log.append("k1 in doubt")
    await store.insert("k2", {"n": 2})
    log.append("k2 ok")


def _keys(sched: Scheduler) -> set[str]:
    return {key for key, _, _ in sched.state.items()}


def test_a_crashed_actor_never_runs_again() -> None:
    sched = Scheduler(1, Faults(crash=1.0, in_doubt=0, unavailable=0, pause=0))
    log: list[str] = []
    actor = sched.spawn("a", _two_writes(SimStore(sched), log))
    sched.run()
    assert actor.crashed and log == []
    assert "k2" not in _keys(sched)
    assert sched.crash_points == {"start": 1}


@pytest.mark.parametrize("fate", ["applied", "lost", "late"])
def test_in_doubt_fates(fate: str) -> None:
    """Right after the in-doubt reply, the write is there only if applied; a late one lands
    afterwards, after the actor looked; a lost one never does."""
    faults = Faults(crash=0, in_doubt=1.0, unavailable=0, pause=0, fates=(fate,),
                    max_late_ms=500)
    for seed in range(20):  # a late write may land at once: some seed lands it later
        sched = Scheduler(seed, faults)
        log: list[str] = []
        sched.spawn("a", _write_then_look(SimStore(sched), log))
        sched.run()
        landed = [line.at for line in sched.trace if line.outcome == "landed late"]
        if fate != "late" or landed[0] > 10:  # well after the look (store latency 0-2 ms)
            break
    assert log == ["k1 in doubt", "k1 there" if fate == "applied" else "k1 absent"]
    assert ("k1" in _keys(sched)) == (fate != "lost")
    assert len(landed) == (1 if fate == "late" else 0)


async def _first_write_only(store: SimStore, log: list[str]) -> None:
    try:
        await store.insert("k1", {"n": 1})
        log.append("k1 ok")
    except InDoubt:
        log.append("k1 in doubt")


async def _write_then_look(store: SimStore, log: list[str]) -> None:
    try:
        await store.insert("k1", {"n": 1})
        log.append("k1 ok")
    except InDoubt:
        log.append("k1 in doubt")
    try:
        await store.get("k1")
        log.append("k1 there")
    except NotFound:
        log.append("k1 absent")


def test_without_faults_everything_applies_in_order() -> None:
    sched = Scheduler(3, NO_FAULTS)
    log: list[str] = []
    sched.spawn("a", _two_writes(SimStore(sched), log))
    sched.run()
    assert log == ["k1 ok", "k2 ok"] and _keys(sched) == {"k1", "k2"}


async def _reader(sched: Scheduler, store: SimStore, seen: list[object]) -> None:
    await sched.sleep(10)
    try:
        seen.append((await store.get("k1")).value)
    except NotFound:
        seen.append(None)


def test_virtual_time_orders_sleepers() -> None:
    sched = Scheduler(5, NO_FAULTS)
    store = SimStore(sched)
    seen: list[object] = []
    sched.spawn("reader", _reader(sched, store, seen))
    sched.spawn("writer", _first_write_only(store, []))
    sched.run()
    assert seen == [{"n": 1}]
    assert sched.now >= 10
