"""Resolve every locked account, found through the user index: for after an incident, when
owners may not log in for a while (``abc recover accounts``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from services.journal import Journal, Resolution
from services.store import NotFound


async def resolve_locked_accounts(
    journal: Journal, progress: Callable[[int, int, str, str], None] | None = None
) -> Counter[str]:
    """Run the resolver on each locked account; a tally of what it found (by resolution).
    ``progress(done, total, uid, what)`` is told after each user."""
    uids = await journal.users()
    tally: Counter[str] = Counter()
    for done, uid in enumerate(uids, start=1):
        try:  # one read of an unlocked account: the resolver's own
            resolution = await journal.resolve_account(uid)
            what = "unlocked" if resolution is Resolution.CLEAN else resolution.value
        except NotFound:  # indexed, never created (its creator died in between)
            what = "not created"
        tally[what] += 1
        if progress is not None:
            progress(done, len(uids), uid, what)
    return tally
