"""Helpers for the journal's unit tests: a fake clock whose sleep returns at once, deterministic
attempt ids, a simulated crash right after a chosen protocol step, and store wrappers that
record every operation or inject a fault (in doubt, a competing write) at a chosen key.

Every test is an ``async def`` test (pytest-asyncio, strict mode: see each module's
``pytestmark``); nothing waits in real time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from services.journal import (
    STEPS,
    Created,
    Deposited,
    Finished,
    Journal,
    JournalContext,
    Policy,
    Timing,
    User,
    user_key,
)
from services.store import DocumentStore, InDoubt, Json, NotFound, StoreWrapper

T = TypeVar("T")

T0 = 1_700_000_000_000
"""The fake clock's start: ms since the epoch."""

OWNER = "seller"
CAMPAIGN = "camp"
MIN_PRICE = 100
FEE_BPS = Policy().fee_bps  # the default operator fee every campaign here is made with
SLOT_SECONDS = 60


class Crash(BaseException):
    """A simulated process death. A BaseException, so no ``except Exception`` in the journal
    can swallow it: the op stops dead, leaving the store exactly as the step left it."""


def crash_after(step: str, occurrence: int = 1) -> Callable[[str], None]:
    """An ``on_step`` observer that dies right after the ``occurrence``-th ``step``."""
    assert step in STEPS, step
    seen = 0

    def observe(name: str) -> None:
        nonlocal seen
        if name == step:
            seen += 1
            if seen == occurrence:
                raise Crash(step)

    return observe


SleepHook = Callable[[int], Awaitable[None]]


class FakeClock:
    """Milliseconds that move only when told to, or when someone sleeps: ``sleep`` records
    the wait, advances the clock by it at once, then runs ``on_sleep`` (given the 1-based
    number of the sleep), which is where a test makes things happen "meanwhile"."""

    def __init__(self, start: int = T0) -> None:
        self.now = start
        self.sleeps: list[int] = []
        self.on_sleep: SleepHook | None = None

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms

    async def sleep(self, ms: int) -> None:
        self.sleeps.append(ms)
        self.now += ms
        if self.on_sleep is not None:
            await self.on_sleep(len(self.sleeps))


class Ids:
    """Deterministic attempt ids: ``<prefix>1``, ``<prefix>2``, ..."""

    def __init__(self, prefix: str = "att") -> None:
        self.prefix = prefix
        self.issued: list[str] = []

    def __call__(self) -> str:
        new = f"{self.prefix}{len(self.issued) + 1}"
        self.issued.append(new)
        return new


@dataclass
class Node:
    """One process running the journal: its clock, ids, the steps it did, the slots it
    finished (what it would publish) and its Journal."""

    store: DocumentStore
    clock: FakeClock = field(default_factory=FakeClock)
    ids: Ids = field(default_factory=Ids)
    crash: Callable[[str], None] | None = None
    timing: Timing = field(default_factory=Timing)
    steps: list[str] = field(default_factory=list)
    finished: list[Finished] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.journal = Journal(self.store, self.context())

    def context(self) -> JournalContext:
        def on_step(name: str) -> None:
            self.steps.append(name)
            if self.crash is not None:
                self.crash(name)

        return JournalContext(clock=self.clock, sleep=self.clock.sleep, new_id=self.ids,
                       on_step=on_step, on_finished=self.finished.append, timing=self.timing)


Op = tuple[str, str]
"""One store operation as recorded: ``(op, key)``."""


class RecordingStore(StoreWrapper):
    """A DocumentStore over ``inner`` that records every operation as ``(op, key)`` (before
    running it, so a failed one counts too), and can inject faults at chosen keys:

    - ``in_doubt(key, applied)``: the next insert of ``key`` raises InDoubt, after applying
      it (``applied=True``) or without (``applied=False``);
    - ``before_insert(key, action)``: the next insert of ``key`` first awaits ``action``
      (say, a competitor's write), then goes on.
    """

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.ops: list[Op] = []
        self._in_doubt: dict[str, bool] = {}
        self._before: dict[str, Callable[[], Awaitable[None]]] = {}

    @property
    def writes(self) -> list[Op]:
        return [op for op in self.ops if op[0] != "get"]

    def clear(self) -> None:
        self.ops.clear()

    def in_doubt(self, key: str, applied: bool) -> None:
        self._in_doubt[key] = applied

    def before_insert(self, key: str, action: Callable[[], Awaitable[None]]) -> None:
        self._before[key] = action

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        self.ops.append((op, key))
        return await call()

    async def insert(self, key: str, value: Json) -> int:
        self.ops.append(("insert", key))
        action = self._before.pop(key, None)
        if action is not None:
            await action()
        if key in self._in_doubt:
            if self._in_doubt.pop(key):
                await self.inner.insert(key, value)
            raise InDoubt(key, "insert", "injected: no answer")
        return await self.inner.insert(key, value)


async def value_of(store: DocumentStore, key: str) -> Json | None:
    """The document at ``key``, or None if there is none."""
    try:
        return (await store.get(key)).value
    except NotFound:
        return None


async def user_of(store: DocumentStore, uid: str) -> User:
    return User.from_json((await store.get(user_key(uid))).value)


async def open_account(journal: Journal, uid: str, balance: int = 0) -> None:
    """A new account holding ``balance`` (deposited under the id ``initial``)."""
    assert await journal.create_account(uid) == Created("user", uid)
    if balance:
        assert await journal.deposit(uid, "initial", balance) == Deposited(balance, balance)


async def market(
    journal: Journal, buyers: dict[str, int], min_price: int = MIN_PRICE,
    slot_seconds: int = SLOT_SECONDS,
) -> None:
    """The usual world: ``OWNER``'s campaign ``CAMPAIGN``, and each buyer with its balance."""
    await open_account(journal, OWNER)
    for uid, balance in buyers.items():
        await open_account(journal, uid, balance)
    created = await journal.create_campaign(CAMPAIGN, OWNER, min_price, slot_seconds)
    assert created == Created("campaign", CAMPAIGN)
