"""The one error a demo run raises for its caller to print: it could not run at all."""

from __future__ import annotations


class DemoError(Exception):
    """The world could not be created (e.g. the store already holds one), or the watcher
    never got its first snapshots; the message says which."""
