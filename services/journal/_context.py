"""What the journal takes from its caller instead of reaching for globals: a clock, a sleep, a
source of attempt ids, a step observer, a way to run CPU work off the event loop, timings, the
operator's money policy, and (for the simulation's mutation tests only) the safeguards it may
switch off. The simulation passes virtual ones."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from ._groups import GroupWrites, WriteGroups

if TYPE_CHECKING:
    from ._finish import Finished

Clock = Callable[[], int]
"""Milliseconds since the epoch, UTC."""
Sleep = Callable[[int], Awaitable[None]]
"""Sleep for the given milliseconds."""
NewId = Callable[[], str]
"""A new, never repeated attempt id (an id: ``[A-Za-z0-9_-]{1,64}``)."""
StepObserver = Callable[[str], None]
"""Told the name of each protocol step (``STEPS``) right after it is done."""
FinishObserver = Callable[["Finished"], None]
"""Told of every slot this process finished (to publish the fill event); must not block."""
TraceCarrier = dict[str, str]
"""A W3C trace context (``traceparent``, maybe ``tracestate``), stored with a purchase so a
later repair can link to it."""
SpanFactory = Callable[[str, Mapping[str, str | int], Sequence[TraceCarrier]],
                       AbstractContextManager[None]]
"""Opens a span named for a protocol step, with attributes and links to other traces."""
TraceContext = Callable[[], TraceCarrier | None]
"""The current trace context, to store in a lock and its slot (None: not tracing)."""
T = TypeVar("T")


class Offload(Protocol):
    """Runs CPU-bound work (decoding an ad's image) where it does not hold up the event loop,
    and gives its result (or raises what it raised)."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...


STEPS = (
    "buy.intent",  # the user doc is locked with the purchase's intent
    "buy.fill",  # slot:c:n inserted: the purchase is committed
    "buy.fence",  # a void inserted at slot:c:n for an in-doubt attempt
    "buy.rollback",  # the lock of an attempt that did not commit cleared, no debit
    "finish.receipt",  # txn:c:n inserted (or found)
    "finish.debit",  # the buyer's lock cleared with the debit
    "finish.release",  # a void's fenced attempt: its lock cleared, no debit
    "finish.advance",  # the campaign's head moved to n
    "deposit.intent",
    "deposit.commit",  # deposit:<uid>:<id> inserted: the deposit is committed
    "deposit.rollback",
    "deposit.credit",
    "credit.list",  # one buyer's share of the run written into purchases:<uid> (before the intent)
    "credit.seal",  # a full head copied to its sealed page purchases:<uid>:<page>
    "credit.intent",  # the seller's doc is locked with the run to credit
    "credit.commit",  # credit:<cid>:<first> inserted: the credit is committed
    "credit.rollback",
    "credit.apply",  # the seller's lock cleared with the run's shares added
    "credit.advance",  # the campaign's credited hint moved to the run's last slot
    "withdraw.intent",
    "withdraw.commit",  # withdrawal:<uid>:<w> inserted, state requested: committed
    "withdraw.rollback",
    "withdraw.debit",  # the lock cleared with amount + fee taken off the balance
    "payout.claim",  # requested -> paying: a payer is about to call the rail
    "payout.paid",  # paying -> paid, with the rail's reference
    "payout.failed",  # paying -> failed: the rail refused
    "payout.retry",  # failed -> requested: the operator retries
    "payout.reject",  # requested | failed -> rejected: the operator refuses
    "refund.intent",
    "refund.commit",  # refund:<uid>:<w> inserted: the refund is committed
    "refund.rollback",
    "refund.credit",  # the lock cleared with amount + fee given back
    "refund.close",  # the withdrawal moved rejected -> refunded
)


@dataclass(frozen=True, slots=True)
class Timing:
    """Waits and bounds, in milliseconds and counts."""

    resolve_grace_ms: int = 2000  # how long a resolver lets an uncommitted lock live
    resolve_poll_ms: int = 100  # how often it looks for the commit meanwhile
    posse_wait_ms: int = 100  # a posse member's pause before finishing another's slot
    max_cas_retries: int = 32  # lost CAS races on one document before giving up (JournalError)
    max_buy_rounds: int = 8  # slots one ``buy`` call may try when it may keep trying


@dataclass(frozen=True, slots=True)
class Safeguards:
    """Each field is one protocol safeguard. All on in every real process; the simulation's
    mutation tests switch one off to prove the simulation notices."""

    fence_in_doubt: bool = True  # settle an absent commit by a void, not by assuming
    debit_only_while_locked: bool = True  # retry the effect CAS only while the lock names us
    finish_before_buy: bool = True  # finish slot n before trying n+1
    never_backwards: bool = True  # advance head by CAS from n-1 only
    credit_keyed_by_start: bool = True  # a credit run's commit key is its first slot
    claimed_never_rejected: bool = True  # a paying withdrawal may not be rejected
    refund_needs_commit: bool = True  # a refund is committed by its key before it pays back


@dataclass(frozen=True, slots=True)
class Policy:
    """The operator's money settings, the same in every process."""

    fee_bps: int = 150  # the fee on each sale, basis points (1.5%), fixed per campaign
    withdrawal_fee: int = 0  # a flat fee per withdrawal, minor units
    min_withdrawal: int = 1  # the smallest amount one withdrawal may take out
    credit_batch: int = 1000  # the most slots one credit op covers
    min_campaign_price: int = 1  # the lowest min_price a campaign may be opened with
    purchase_page: int = 64  # entries per page of a new purchase list (a list keeps its own)


def _wall_clock() -> int:
    return time.time_ns() // 1_000_000


async def _sleep(ms: int) -> None:
    await asyncio.sleep(ms / 1000)


def _new_attempt_id() -> str:
    return uuid.uuid4().hex


async def _in_a_thread(work: Callable[[], T]) -> T:
    return await asyncio.to_thread(work)


def _ignore_step(_step: str) -> None:
    return None


def _ignore_finished(_finished: Finished) -> None:
    return None


def _no_span(_name: str, _attributes: Mapping[str, str | int],
             _links: Sequence[TraceCarrier]) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def _no_trace() -> TraceCarrier | None:
    return None


@dataclass(frozen=True, slots=True)
class JournalContext:
    clock: Clock = _wall_clock
    sleep: Sleep = _sleep
    new_id: NewId = _new_attempt_id
    on_step: StepObserver = _ignore_step
    on_finished: FinishObserver = _ignore_finished
    span: SpanFactory = _no_span
    trace_context: TraceContext = _no_trace
    offload: Offload = _in_a_thread  # a worker thread; the simulation runs the work inline
    timing: Timing = field(default_factory=Timing)
    safeguards: Safeguards = field(default_factory=Safeguards)
    policy: Policy = field(default_factory=Policy)
    # Appends of this process to one list grouped (``_groups.py``); ``write_alone`` where
    # there is no event loop (the simulation).
    group_writes: GroupWrites = field(default_factory=WriteGroups)

    @contextlib.contextmanager
    def step(self, name: str, **attributes: str | int) -> Iterator[None]:
        """A protocol step: its span around the body; ``on_step`` once the body is done."""
        with self.span(name, attributes, ()):
            yield
        self.on_step(name)
