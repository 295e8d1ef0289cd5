"""Each schedule's coverage, second by second: with all N replicas up, every campaign is
checked every second (ordinal-shard, round-robin; random only on average); with any N-1 dead,
every campaign is still checked at least every 10 s (the MAX_INTERVAL_S rule)."""

from __future__ import annotations

import itertools
import random

import pytest

from services.recovery import (
    MAX_INTERVAL_S,
    SCHEDULES,
    OrdinalShard,
    RandomDuty,
    RoundRobin,
    Schedule,
    due,
    make_schedule,
)

CAMPAIGNS = [f"c{i}" for i in range(40)]
SECONDS = range(1_700_000_000, 1_700_000_120)  # two minutes of epoch seconds


def _replicas(kind: type[Schedule], n: int) -> list[Schedule]:
    if kind is RandomDuty:
        return [RandomDuty(i, n, rng=random.Random(i)) for i in range(n)]
    return [kind(i, n) for i in range(n)]  # type: ignore[call-arg]


def _checks(alive: list[Schedule]) -> dict[str, list[int]]:
    """When each campaign gets checked by the live replicas, applying ``due`` as they do."""
    checked: dict[str, list[int]] = {c: [] for c in CAMPAIGNS}
    last: dict[tuple[int, str], int] = {}
    for second in SECONDS:
        for r, schedule in enumerate(alive):
            for cid in CAMPAIGNS:
                if due(schedule, cid, second, last.get((r, cid))):
                    last[r, cid] = second
                    checked[cid].append(second)
    return checked


def _max_gap(times: list[int]) -> int:
    distinct = sorted(set(times))
    return max(b - a for a, b in itertools.pairwise(distinct))


@pytest.mark.parametrize("kind", [OrdinalShard, RoundRobin])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_all_replicas_up_checks_every_campaign_every_second(kind: type[Schedule], n: int) -> None:
    checked = _checks(_replicas(kind, n))
    for cid, times in checked.items():
        assert set(times) == set(SECONDS), cid


@pytest.mark.parametrize("kind", [OrdinalShard, RoundRobin])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_exactly_one_replica_on_duty_per_campaign_and_second(kind: type[Schedule], n: int
                                                             ) -> None:
    replicas = _replicas(kind, n)
    for second in SECONDS:
        for cid in CAMPAIGNS:
            assert sum(r.on_duty(cid, second) for r in replicas) == 1


@pytest.mark.parametrize("kind", [OrdinalShard, RoundRobin, RandomDuty])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_any_n_minus_1_dead_still_checks_every_10_s(kind: type[Schedule], n: int) -> None:
    for survivor in range(n):
        alive = [_replicas(kind, n)[survivor]]
        for cid, times in _checks(alive).items():
            assert _max_gap(times) <= MAX_INTERVAL_S, (kind.name, n, survivor, cid)


def test_ordinal_shard_spreads_the_load() -> None:
    replicas = _replicas(OrdinalShard, 3)
    second = SECONDS[0]
    loads = [sum(r.on_duty(c, second) for c in CAMPAIGNS) for r in replicas]
    assert sum(loads) == len(CAMPAIGNS) and min(loads) > 0


def test_ordinal_shard_rotates_duty_so_a_dead_replica_delays_by_a_second() -> None:
    """Kill one of 3: a campaign goes unchecked for at most one second at a time."""
    alive = _replicas(OrdinalShard, 3)[1:]
    checked = {c: [s for s in SECONDS if any(r.on_duty(c, s) for r in alive)] for c in CAMPAIGNS}
    for times in checked.values():
        assert _max_gap(times) <= 2


def test_random_duty_covers_most_seconds_on_average() -> None:
    """Uncoordinated: about 1 - (1 - 1/N)^N of seconds have someone on duty (0.70 for N=3)."""
    replicas = _replicas(RandomDuty, 3)
    covered = sum(any(r.on_duty("c", s) for r in replicas) for s in range(10_000))
    assert 0.65 < covered / 10_000 < 0.75


def test_make_schedule_by_name() -> None:
    assert set(SCHEDULES) == {"ordinal-shard", "round-robin", "random"}
    assert make_schedule("round-robin", 1, 3).on_duty("x", 4)
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule("nope", 0, 1)
