"""Who checks which campaign when: docs/protocol.md's posse schedules. Adding one is one small
class with a ``name`` and ``on_duty``, registered in ``SCHEDULES``.

Whatever the schedule, a replica also checks every campaign at least every
``MAX_INTERVAL_S`` seconds (``due``): that is what bounds recovery when most replicas are dead.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

MAX_INTERVAL_S = 10


def stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big")


class Schedule(Protocol):
    name: ClassVar[str]

    def on_duty(self, campaign: str, second: int) -> bool:
        """Whether this replica checks ``campaign`` in this (epoch) second."""
        ...


@dataclass(frozen=True)
class OrdinalShard:
    """Campaign c is checked each second by replica (hash(c) + second) mod N: every campaign
    once a second, the load spread, the duty rotating so a dead replica delays a campaign by
    one second, never forever."""

    ordinal: int
    replicas: int
    name: ClassVar[str] = "ordinal-shard"

    def on_duty(self, campaign: str, second: int) -> bool:
        return (stable_hash(campaign) + second) % self.replicas == self.ordinal


@dataclass(frozen=True)
class RoundRobin:
    """The seed's agreed alternating schedule: all campaigns by replica second mod N."""

    ordinal: int
    replicas: int
    name: ClassVar[str] = "round-robin"

    def on_duty(self, campaign: str, second: int) -> bool:
        return second % self.replicas == self.ordinal


@dataclass
class RandomDuty:
    """The seed's uncoordinated rule: each second a replica is on duty (for every campaign)
    when sha1(random, time, its ordinal) mod N == 0. Expected duty: one replica a second, but
    some seconds nobody is on duty, and some seconds several are."""

    ordinal: int
    replicas: int
    rng: random.Random = field(default_factory=random.SystemRandom)
    name: ClassVar[str] = "random"
    _second: int = -1
    _duty: bool = False

    def on_duty(self, campaign: str, second: int) -> bool:
        if second != self._second:
            draw = f"{self.rng.random()}|{second}|{self.ordinal}"
            self._second, self._duty = second, stable_hash(draw) % self.replicas == 0
        return self._duty


SCHEDULES: Mapping[str, type[OrdinalShard] | type[RoundRobin] | type[RandomDuty]] = {
    OrdinalShard.name: OrdinalShard,
    RoundRobin.name: RoundRobin,
    RandomDuty.name: RandomDuty,
}


def make_schedule(name: str, ordinal: int, replicas: int) -> Schedule:
    try:
        return SCHEDULES[name](ordinal, replicas)
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; one of {', '.join(SCHEDULES)}") from None


def due(schedule: Schedule, campaign: str, tick: int, last_checked: int | None,
        max_interval: int = MAX_INTERVAL_S) -> bool:
    """Whether to check ``campaign`` at ``tick``: on duty, or not checked for
    ``max_interval`` ticks (ticks are seconds unless a replica ticks faster)."""
    overdue = last_checked is None or tick - last_checked >= max_interval
    return overdue or schedule.on_duty(campaign, tick)
