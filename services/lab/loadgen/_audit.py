"""The audit of a store named by URL, for tests and benchmarks that hold only the URL."""

from __future__ import annotations

from services.journal import Violation, audit
from services.store import open_store


async def audit_url(url: str, quiescent: bool = False) -> list[Violation]:
    """``audit`` of the store ``url`` names, opened for it and closed after."""
    store = await open_store(url)
    try:
        return await audit(store, quiescent)
    finally:
        await store.close()
