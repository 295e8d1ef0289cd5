"""The store's error tree. Every adapter raises only these (``raise Ours(...) from exc``).

    StoreError                 base: something about one store operation
    ├── NotFound               the key does not exist (get, replace, remove)
    ├── Exists                 insert of a key that exists
    ├── CasMismatch            replace/remove with a cas that is no longer current
    ├── Unavailable            the store could not be reached; the operation did NOT happen
    └── InDoubt                a write whose answer never came: it may or may not have happened

``InDoubt`` is the one a caller must think about: the journal settles it by the protocol's
in-doubt rules (fence, roll forward), never by a blind retry.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store error; ``key`` is the document concerned, ``op`` the operation."""

    def __init__(self, key: str, op: str, detail: str = "") -> None:
        self.key = key
        self.op = op
        self.detail = detail
        text = f"{op} {key}"
        super().__init__(f"{text}: {detail}" if detail else text)


class NotFound(StoreError):
    """The key does not exist."""


class Exists(StoreError):
    """``insert`` found the key already there."""


class CasMismatch(StoreError):
    """The document changed since the cas the caller holds was read."""


class Unavailable(StoreError):
    """The store could not be reached or refused; the operation did not take effect."""


class InDoubt(StoreError):
    """A write whose outcome is unknown: it may have been applied, now or later, or never."""
