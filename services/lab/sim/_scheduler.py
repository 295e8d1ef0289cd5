"""A deterministic scheduler that runs the real journal code in virtual time.

Each actor is a coroutine. Every store operation and every sleep of the journal suspends it
with a *request* (``yield`` through ``_Request``) and hands control back here; nothing else runs
meanwhile, so one seeded RNG decides everything: which actor goes next, how long each
operation takes, and the faults. At a store operation an actor may be

- **crashed**: it never runs again; a write it had sent may still land later, or never;
- given an **in-doubt** write: applied with the reply lost, not applied, or applied *late*
  (still in flight, landing at a later virtual time);
- told the store is **unavailable** (nothing applied).

No asyncio loop is involved: the coroutines are driven with ``send``/``throw``, which is why
the journal takes its clock, sleep and ids as parameters.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

from services.store import (
    Document,
    InDoubt,
    Json,
    MemoryState,
    StoreError,
    Unavailable,
)

WRITES = ("insert", "replace", "upsert", "remove")


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # get, insert, replace, upsert, remove
    key: str
    value: Json | None = None
    cas: int | None = None


@dataclass(frozen=True, slots=True)
class Nap:
    ms: int


Request = Op | Nap


class _Request:
    """The awaitable that suspends an actor's coroutine with a request for the scheduler."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __await__(self) -> Generator[Request, Any, Any]:
        return (yield self.request)


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-operation probabilities (of a store operation by a faulty actor)."""

    crash: float = 0.012
    in_doubt: float = 0.05  # of a write: then one of ``fates``, drawn evenly
    fates: tuple[str, ...] = ("applied", "lost", "late")  # applied or lost with the reply,
    # or still in flight and landing later
    unavailable: float = 0.005
    pause: float = 0.02  # a long pause before the operation (GC, a slow node)
    max_pause_ms: int = 700
    max_late_ms: int = 3000  # how late an in-flight write may land


NO_FAULTS = Faults(crash=0, in_doubt=0, unavailable=0, pause=0)


@dataclass
class Actor:
    name: str
    coro: Coroutine[Any, Any, Any]
    faulty: bool
    wake_at: int = 0
    request: Request | None = None
    last_step: str = "start"
    done: bool = False
    crashed: bool = False
    result: Any = None


@dataclass(frozen=True, slots=True)
class TraceLine:
    at: int
    actor: str
    what: str
    key: str
    outcome: str

    def __str__(self) -> str:
        return f"{self.at:>7} ms  {self.actor:<12} {self.what:<18} {self.key:<22} {self.outcome}"


class ActorFailed(Exception):
    """An actor raised: a bug in the code under test (the journal never raises on faults)."""


Observer = Callable[[Op], None]
"""Told of every write applied to the state, right after it is applied."""


@dataclass
class Scheduler:
    seed: int
    faults: Faults
    state: MemoryState = field(default_factory=MemoryState)
    now: int = 0
    trace: list[TraceLine] = field(default_factory=list)
    crash_points: dict[str, int] = field(default_factory=dict)
    observers: list[Observer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.actors: list[Actor] = []
        self.current: Actor | None = None
        self._late: list[tuple[int, int, Op]] = []  # (lands at, order, op)
        self._ids = 0
        self.ops = 0

    # -- what the journal's JournalContext and store use ------------------------------------------

    def clock(self) -> int:
        return self.now

    async def sleep(self, ms: int) -> None:
        await _Request(Nap(ms))

    def new_id(self) -> str:
        self._ids += 1
        return f"a{self._ids}"

    def on_step(self, step: str) -> None:
        if self.current is not None:
            self.current.last_step = step

    async def request(self, op: Op) -> Any:
        return await _Request(op)

    # -- running ------------------------------------------------------------------------------

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any], faulty: bool = True) -> Actor:
        actor = Actor(name, coro, faulty, wake_at=self.now)
        self.actors.append(actor)
        self._resume(actor, lambda: coro.send(None))
        return actor

    def run(self, max_ops: int = 200_000) -> None:
        """Run until every actor has finished or crashed and no write is in flight."""
        while self.ops < max_ops:
            self._land_late_writes()
            ready = [a for a in self.actors if not a.done and a.wake_at <= self.now]
            if ready:
                self._step(self.rng.choice(ready))
                continue
            times = [a.wake_at for a in self.actors if not a.done]
            times += [t for t, _, _ in self._late]
            if not times:
                return
            self.now = min(times)
        raise ActorFailed(f"seed {self.seed}: no end after {max_ops} operations (livelock?)")

    def _step(self, actor: Actor) -> None:
        request = actor.request
        if isinstance(request, Nap):
            self._resume(actor, lambda: actor.coro.send(None))
            return
        assert request is not None
        self.ops += 1
        faults = self.faults if actor.faulty else NO_FAULTS
        if self.rng.random() < faults.pause:
            actor.wake_at = self.now + self.rng.randint(50, faults.max_pause_ms)
            actor.request = request
            self._trace(actor, "pause", "", f"until {actor.wake_at}")
            return
        if self.rng.random() < faults.crash:
            self._crash(actor, request)
            return
        try:
            result = self._perform(actor, request, faults)
        except StoreError as exc:
            self._resume(actor, functools.partial(actor.coro.throw, exc))
            return
        self._resume(actor, lambda: actor.coro.send(result))

    def _perform(self, actor: Actor, op: Op, faults: Faults) -> Any:
        if self.rng.random() < faults.unavailable:
            self._trace(actor, op.kind, op.key, "UNAVAILABLE (not applied)")
            raise Unavailable(op.key, op.kind, "simulated outage")
        if op.kind in WRITES and self.rng.random() < faults.in_doubt:
            fate = self.rng.choice(faults.fates)
            if fate == "applied":
                self._apply(op)
            elif fate == "late":
                self._send_late(op, faults)
            self._trace(actor, op.kind, op.key, f"IN DOUBT ({fate})")
            raise InDoubt(op.key, op.kind, f"simulated: {fate}")
        try:
            result = self._apply(op)
        except StoreError as exc:
            self._trace(actor, op.kind, op.key, type(exc).__name__)
            raise
        self._trace(actor, op.kind, op.key, _describe(result))
        return result

    def _crash(self, actor: Actor, op: Op) -> None:
        self.crash_points[actor.last_step] = self.crash_points.get(actor.last_step, 0) + 1
        fate = "not sent"
        if op.kind in WRITES and self.rng.random() < 0.5:
            fate = "sent, in flight"
            self._send_late(op, self.faults)
        self._trace(actor, "CRASH", op.key, f"after {actor.last_step}; {op.kind} {fate}")
        actor.crashed = actor.done = True
        actor.coro.close()

    def _send_late(self, op: Op, faults: Faults) -> None:
        lands = self.now + self.rng.randint(0, faults.max_late_ms)
        self._late.append((lands, self.ops, op))

    def _land_late_writes(self) -> None:
        due = sorted(x for x in self._late if x[0] <= self.now)
        if not due:
            return
        self._late = [x for x in self._late if x[0] > self.now]
        for _, _, op in due:
            try:
                self._apply(op)
                outcome = "landed late"
            except StoreError as exc:
                outcome = f"landed late: {type(exc).__name__}"
            self.trace.append(TraceLine(self.now, "(network)", op.kind, op.key, outcome))

    def _apply(self, op: Op) -> Any:
        state = self.state
        if op.kind == "get":
            return state.get(op.key)
        assert op.value is not None or op.kind == "remove"
        if op.kind == "insert":
            result: Any = state.insert(op.key, op.value or {})
        elif op.kind == "replace":
            result = state.replace(op.key, op.value or {}, op.cas or 0)
        elif op.kind == "upsert":
            result = state.upsert(op.key, op.value or {})
        else:
            state.remove(op.key, op.cas or 0)
            result = None
        for observe in self.observers:
            observe(op)
        return result

    def _resume(self, actor: Actor, step: Callable[[], Any]) -> None:
        self.current = actor
        try:
            request = step()
        except StopIteration as stop:
            actor.done, actor.result, actor.request = True, stop.value, None
            return
        except Exception as exc:
            raise ActorFailed(f"actor {actor.name} raised {exc!r}") from exc
        finally:
            self.current = None
        actor.request = request
        latency = 0 if isinstance(request, Nap) else self.rng.randint(0, 2)
        actor.wake_at = self.now + (request.ms if isinstance(request, Nap) else latency)

    def _trace(self, actor: Actor, what: str, key: str, outcome: str) -> None:
        self.trace.append(TraceLine(self.now, actor.name, what, key, outcome))


def _describe(result: Any) -> str:
    if isinstance(result, Document):
        return f"ok cas={result.cas}"
    return "ok" if result is None else f"ok cas={result}"
