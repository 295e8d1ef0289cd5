"""Resolve every locked account, found through the user index: for after an incident, when
owners may not log in for a while (``abc recover accounts``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from services.journal import IndexKind, Journal, Missing, User, list_index
from services.store import NotFound


async def resolve_locked_accounts(
    journal: Journal, progress: Callable[[int, int, str, str], None] | None = None
) -> Counter[str]:
    """Run the resolver on each locked account; a tally of what it found (by resolution).
    ``progress(done, total, uid, what)`` is told after each user."""
    uids = await list_index(journal.store, IndexKind.USERS)
    tally: Counter[str] = Counter()
    for done, uid in enumerate(uids, start=1):
        account = await journal.get_account(uid)
        if isinstance(account, Missing):
            what = "not created"
        elif isinstance(account, User) and account.lock is None:
            what = "unlocked"
        else:
            try:
                what = (await journal.resolve_account(uid)).value
            except NotFound:
                what = "not created"
        tally[what] += 1
        if progress is not None:
            progress(done, len(uids), uid, what)
    return tally
