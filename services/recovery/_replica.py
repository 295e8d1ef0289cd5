"""One posse replica: each tick (a second, as docs/protocol.md has it, unless ``tick_ms`` says
otherwise), check the campaigns that are due, concurrently and with a
bound, so one slow or failing campaign never stalls the rest; a store outage is logged and
the next tick simply tries again.

A check reads the campaign's head anyway: when it moved since this replica last looked, the
replica says so (``on_head``; the service publishes a head event), so watchers learn of fills
whose own events never went out, within a few ticks instead of at notify's next safety read.

It reads the campaign's ``credited`` hint too: when sales wait for their credit, the replica
credits the seller right after the check, paced per seller (``_crediting.py``).

The payer (``_payer.py``) runs beside it in the same process: ``start_recovery`` starts both."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry import metrics

from services.journal import (
    AccountBusy,
    Campaign,
    Check,
    Credited,
    Interrupted,
    Journal,
    JournalError,
    NothingToCredit,
)
from services.store import InDoubt, NotFound, Unavailable

from ._crediting import CREDIT_INTERVAL_MS, CreditPacer
from ._schedules import MAX_INTERVAL_S, Schedule, due

log = logging.getLogger("abc.recovery")
_meter = metrics.get_meter("abc.recovery")
repairs = _meter.create_counter("abc.recovery.repairs", description="slots finished by the posse")
repair_delay = _meter.create_histogram("abc.recovery.repair_delay", unit="ms",
                                       description="from a purchase to its repair")
credits = _meter.create_counter("abc.recovery.credits",
                                description="credit ops by the posse that credited a run")

CHECK_TIMEOUT_S = 5.0
CONCURRENCY = 32
KEEP_REPAIRS = 20


@dataclass(frozen=True)
class RepairRecord:
    campaign: str
    slot: int
    void: bool
    repaired_at: int  # ms
    delay_ms: int  # from the purchase to this repair; 0 for a void


@dataclass
class Counters:
    checks: int = 0
    repairs: int = 0
    failed_checks: int = 0
    credits: int = 0  # credit ops that credited a run of sales to its seller
    credited_slots: int = 0
    credited_amount: int = 0  # minor units
    failed_credits: int = 0  # store errors, timeouts (retried at a later check)
    last_repairs: deque[RepairRecord] = field(default_factory=lambda: deque(maxlen=KEEP_REPAIRS))


class Replica:
    """Replica ``ordinal`` of ``replicas``, checking by ``schedule``."""

    def __init__(self, journal: Journal, schedule: Schedule, ordinal: int, replicas: int,
                 concurrency: int = CONCURRENCY, check_timeout_s: float = CHECK_TIMEOUT_S,
                 tick_ms: int = 1000,
                 on_head: Callable[[str, int], None] = lambda _cid, _head: None,
                 credit_interval_ms: int = CREDIT_INTERVAL_MS) -> None:
        self.journal = journal
        self.schedule = schedule
        self.ordinal = ordinal
        self.replicas = replicas
        self.campaigns: list[str] = []
        self.counters = Counters()
        self.started_at = journal.now()
        self._last_checked: dict[str, int] = {}
        self._heads: dict[str, int] = {}  # the head each campaign had at its last check
        self._on_head = on_head
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout_s = check_timeout_s
        self.tick_ms = tick_ms
        # The 10 s rule, in ticks: a campaign is checked at least every MAX_INTERVAL_S.
        self._max_interval = max(1, MAX_INTERVAL_S * 1000 // tick_ms)
        # A campaign refused a turn is checked again here within N ticks (its duty rotates).
        self._pacer = CreditPacer(credit_interval_ms,
                                  replicas * tick_ms + credit_interval_ms)
        self._owners: dict[str, str] = {}  # campaign -> its owner (owners never change)
        self._chain_ends: dict[str, int] = {}  # campaign -> the last slot seen credited

    async def run(self, stop: asyncio.Event) -> None:
        """Tick at the start of every tick period until ``stop``."""
        while not stop.is_set():
            await self.tick(self.journal.now() // self.tick_ms)
            wait_s = (self.tick_ms - self.journal.now() % self.tick_ms) / 1000
            try:
                await asyncio.wait_for(stop.wait(), wait_s)
            except TimeoutError:
                continue
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def tick(self, tick: int) -> list[str]:
        """Start the checks due at ``tick``; returns the campaigns started."""
        await self._refresh()
        started = []
        for cid in self.campaigns:
            if cid in self._in_flight or not due(self.schedule, cid, tick,
                                                  self._last_checked.get(cid),
                                                  self._max_interval):
                continue
            self._last_checked[cid] = tick
            self._in_flight[cid] = asyncio.create_task(self._check(cid, tick),
                                                       name=f"check {cid}")
            started.append(cid)
        return started

    async def wait_idle(self) -> None:
        """Until every check started so far has ended (for tests and the benchmark)."""
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _refresh(self) -> None:
        try:
            self.campaigns = await self.journal.campaigns()
        except (Unavailable, InDoubt) as exc:
            log.warning("can't list campaigns (%s); checking the %d known", exc,
                        len(self.campaigns))

    async def _check(self, cid: str, tick: int) -> None:
        try:
            async with self._slots:
                check = await asyncio.wait_for(self.journal.check_campaign(cid), self._timeout_s)
                self.counters.checks += 1
                if check.repaired is not None:
                    self._record(check.repaired.campaign, check.repaired.slot, check.bought_at)
                if self._heads.get(cid) != check.head:
                    self._heads[cid] = check.head
                    self._on_head(cid, check.head)
                if check.uncredited and check.head > self._chain_ends.get(cid, 0):
                    await self._credit(check, tick * self.tick_ms)
        except NotFound:
            self.counters.checks += 1  # listed but not created (yet): nothing to check
        except (Unavailable, InDoubt, JournalError, TimeoutError) as exc:
            self.counters.failed_checks += 1
            log.warning("check of campaign %s failed (%s: %s); next tick retries", cid,
                        type(exc).__name__, exc)
        finally:
            self._in_flight.pop(cid, None)

    async def _credit(self, check: Check, at: int) -> None:
        """Credit the next run of ``check``'s campaign to its owner, if the pacer lets the
        owner be credited at ``at`` (tick time)."""
        cid = check.campaign
        seller: str | None = None
        try:
            seller = self._owners.get(cid) or await self._owner(cid)
            if seller is None or not self._pacer.may_credit(seller, cid, at):
                return
            outcome = await asyncio.wait_for(self.journal.credit(cid), self._timeout_s)
        except TimeoutError:
            outcome = Interrupted(f"no answer within {self._timeout_s} s")
        match outcome:
            case Credited():
                self._chain_ends[cid] = max(self._chain_ends.get(cid, 0), outcome.last)
                self.counters.credits += 1
                self.counters.credited_slots += outcome.last - outcome.first + 1
                self.counters.credited_amount += outcome.amount
                credits.add(1)
                log.info("credited campaign %s slots %d-%d to %s: %d", cid, outcome.first,
                         outcome.last, outcome.seller, outcome.amount)
            case NothingToCredit():
                self._chain_ends[cid] = max(self._chain_ends.get(cid, 0), outcome.credited)
            case AccountBusy() if seller is not None:
                # Busy with an op of its own, or another replica's credit: nothing credited,
                # so the turn is given back and the next check credits.
                self._pacer.returned(seller, cid, at)
            case Interrupted():
                self.counters.failed_credits += 1
                log.warning("credit of campaign %s interrupted (%s); a later check retries",
                            cid, outcome.detail)
            case _:
                self.counters.failed_credits += 1
                log.error("credit of campaign %s refused: %s", cid, outcome)

    async def _owner(self, cid: str) -> str | None:
        """The campaign's owner, read once and kept."""
        campaign = await asyncio.wait_for(self.journal.get_campaign(cid), self._timeout_s)
        if not isinstance(campaign, Campaign):
            self.counters.failed_credits += 1
            log.warning("can't read the owner of campaign %s (%s)", cid, campaign)
            return None
        self._owners[cid] = campaign.owner
        return campaign.owner

    def _record(self, cid: str, slot: int, bought_at: int | None) -> None:
        now = self.journal.now()
        delay = 0 if bought_at is None else now - bought_at
        record = RepairRecord(cid, slot, bought_at is None, now, delay)
        self.counters.repairs += 1
        self.counters.last_repairs.appendleft(record)
        repairs.add(1, {"void": record.void})
        if not record.void:
            repair_delay.record(delay)
        what = "void" if record.void else f"purchase made {delay} ms ago"
        log.info("repaired campaign %s slot %d (%s)", cid, slot, what)


