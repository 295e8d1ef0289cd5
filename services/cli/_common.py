"""What several subcommands share: opening the store with a clear error, and failing. The
store is imported only to open one: ``abc serve gateway`` (a pure client) loads none."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.store import DocumentStore


class CliError(Exception):
    """A message for the user, printed without a traceback; exit code 2."""


async def open_store_or_explain(url: str, create: bool = False) -> DocumentStore:
    """Open the store; for sqlite, refuse a missing file unless ``create`` (a typo in a path
    should not silently audit an empty new database)."""
    from services.store import StoreUrlError, Unavailable, open_store, sqlite_path

    try:
        if url.startswith("sqlite:"):
            path = sqlite_path(url)
            if create:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            elif not Path(path).exists():
                raise CliError(f"no store at {path} (is --store right?)")
        return await open_store(url)
    except (StoreUrlError, Unavailable) as exc:
        raise CliError(str(exc)) from exc


def fail(message: str) -> int:
    print(f"abc: {message}", file=sys.stderr)
    return 2
