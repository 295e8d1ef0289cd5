"""Which crash points (protocol step boundaries) a run must hit."""

from __future__ import annotations

from services.journal import STEPS

_OWN_LOCK = (
    "its commit record is only ever written while the account's lock names the op, and a new "
    "op takes the lock only after the old one is settled and after it has read the key, so a "
    "lock never meets another attempt's record; the branch stays, as docs/protocol.md asks"
)
UNREACHABLE = {
    "deposit.rollback": f"a deposit's: {_OWN_LOCK}",
    "credit.rollback": f"a credit run's (every creditor of a campaign locks its owner): "
                       f"{_OWN_LOCK}",
    "withdraw.rollback": f"a withdrawal's: {_OWN_LOCK}",
    "refund.rollback": f"a refund's: {_OWN_LOCK}",
}

CRASH_POINTS = ("start", *(step for step in STEPS if step not in UNREACHABLE))
"""A crash 'after X' is one between step X and the actor's next store operation."""


def missing_points(hit: dict[str, int]) -> list[str]:
    return [point for point in CRASH_POINTS if not hit.get(point)]
