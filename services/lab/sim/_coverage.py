"""Which crash points (protocol step boundaries) a run must hit."""

from __future__ import annotations

from services.journal import STEPS

UNREACHABLE = {
    "deposit.rollback": (
        "a deposit's record is only ever written while its own lock is held, and a new op "
        "takes the lock only after the old one is settled, so a lock never meets another "
        "attempt's record of its deposit id; the branch stays, as docs/protocol.md asks"
    ),
}

CRASH_POINTS = ("start", *(step for step in STEPS if step not in UNREACHABLE))
"""A crash 'after X' is one between step X and the actor's next store operation."""


def missing_points(hit: dict[str, int]) -> list[str]:
    return [point for point in CRASH_POINTS if not hit.get(point)]
