"""End-user passwords: the credential document, how a password is hashed and checked, and the
throttle on failures (docs/protocol.md, "Credentials").

Hashes are argon2id with OWASP's minimum parameters (m = 19 MiB, t = 2, p = 1): about 30 ms of
one core and 19 MiB per hash or check on the 2-CPU VM this runs on. argon2-cffi's default
(RFC 9106's low-memory profile: 64 MiB, t = 3, p = 4) took ~160 ms and four threads per check,
so a modest burst of log-ins would starve a purchase process of CPU. Hashing and checking run in
a pool of their own, one thread per core, off the event loop: the loop keeps serving, at most
one hash per core runs at once (19 MiB each), and the loop's default executor, which name
resolution also uses, is never filled with hashes.
"""

from __future__ import annotations

import asyncio
import functools
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from services.store import Json

from ._outcomes import InvalidInput, Rejected

T = TypeVar("T")

MIN_PASSWORD = 8  # characters
MAX_PASSWORD = 256  # characters
FREE_FAILURES = 5  # failures in a row before each further attempt must wait
FIRST_WAIT_MS = 1000  # the wait after the FREE_FAILURES-th failure, doubling per failure
MAX_WAIT_MS = 300_000

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32,
                        salt_len=16, type=Type.ID)
DUMMY_HASH = ("$argon2id$v=19$m=19456,t=2,p=1$LjT8jMeeqGOEvCFixFSlYA$"
              "ZSFeX2bLI6U7S3giKIZCEbxpuXxRnoiBZOemUHEumQY")
"""What an attempt on an account without a password is checked against, so that it costs what
a wrong password costs (its own password is random and was thrown away; a match never counts)."""


@dataclass(frozen=True, slots=True)
class Credential:
    """``credential:<uid>``: the password's hash (None: no password), and the failed attempts
    in a row with the time of the last (ms). Written only by CAS (or insert when absent)."""

    hash: str | None = None
    failures: int = 0
    failed_at: int | None = None

    def to_json(self) -> Json:
        return {"hash": self.hash, "failures": self.failures, "failed_at": self.failed_at}

    @classmethod
    def from_json(cls, value: Json) -> Credential:
        return cls(value["hash"], value["failures"], value["failed_at"])

    def wait_ms(self, now: int) -> int:
        """How long from ``now`` until the next attempt may be made (0: now)."""
        if self.failures < FREE_FAILURES or self.failed_at is None:
            return 0
        wait = min(FIRST_WAIT_MS << min(self.failures - FREE_FAILURES, 9), MAX_WAIT_MS)
        # A clock behind the failure's never makes the wait longer than the rule's.
        return max(0, min(wait, self.failed_at + wait - now))

    def failed(self, now: int) -> Credential:
        return Credential(self.hash, self.failures + 1, now)


def check_password(field: str, value: object) -> str:
    """The password itself, or Rejected(InvalidInput) naming the field. Never echoes it."""
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise Rejected(InvalidInput(field, f"must be {MIN_PASSWORD} to {MAX_PASSWORD} "
                                           "characters"))
    try:
        value.encode()
    except UnicodeEncodeError:
        raise Rejected(InvalidInput(field, "must be valid Unicode text")) from None
    return value


async def hash_password(password: str) -> str:
    """A new argon2id hash (a new random salt) of ``password``."""
    return await _off_loop(HASHER.hash, _normalized(password))


async def verify_password(hashed: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``hashed`` holds. None (no password) costs the same as
    a wrong one and is never right; a hash that cannot be read is never right either."""
    verified = await _off_loop(_verify, hashed or DUMMY_HASH, _normalized(password))
    return verified and hashed is not None


def needs_rehash(hashed: str) -> bool:
    """Whether ``hashed`` was made with other parameters than today's."""
    try:
        return HASHER.check_needs_rehash(hashed)
    except InvalidHashError:
        return False


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _normalized(password: str) -> str:
    """NFKC, as NIST SP 800-63B advises: the same password typed on two keyboards (composed
    or decomposed accents, full-width digits) is one password."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="abc-argon2")


async def _off_loop(fn: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool(), fn, *args)
