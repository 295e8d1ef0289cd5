"""One posse replica: each second, check the campaigns that are due, concurrently and with a
bound, so one slow or failing campaign never stalls the rest; a store outage is logged and
the next tick simply tries again."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field

from opentelemetry import metrics

from services.journal import IndexKind, Journal, JournalError, list_index
from services.store import InDoubt, NotFound, Unavailable

from ._schedules import Schedule, due

log = logging.getLogger("abc.recovery")
_meter = metrics.get_meter("abc.recovery")
repairs = _meter.create_counter("abc.recovery.repairs", description="slots finished by the posse")
repair_delay = _meter.create_histogram("abc.recovery.repair_delay", unit="ms",
                                       description="from a purchase to its repair")

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
    last_repairs: deque[RepairRecord] = field(default_factory=lambda: deque(maxlen=KEEP_REPAIRS))


class Replica:
    """Replica ``ordinal`` of ``replicas``, checking by ``schedule``."""

    def __init__(self, journal: Journal, schedule: Schedule, ordinal: int, replicas: int,
                 concurrency: int = CONCURRENCY, check_timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self.journal = journal
        self.schedule = schedule
        self.ordinal = ordinal
        self.replicas = replicas
        self.campaigns: list[str] = []
        self.counters = Counters()
        self.started_at = journal.rt.clock()
        self._last_checked: dict[str, int] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout_s = check_timeout_s

    async def run(self, stop: asyncio.Event) -> None:
        """Tick at the start of every second until ``stop``."""
        while not stop.is_set():
            await self.tick(self.journal.rt.clock() // 1000)
            wait_s = 1.0 - (self.journal.rt.clock() % 1000) / 1000
            try:
                await asyncio.wait_for(stop.wait(), wait_s)
            except TimeoutError:
                continue
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def tick(self, second: int) -> list[str]:
        """Start the checks due this second; returns the campaigns started."""
        await self._refresh()
        started = []
        for cid in self.campaigns:
            if cid in self._in_flight or not due(self.schedule, cid, second,
                                                  self._last_checked.get(cid)):
                continue
            self._last_checked[cid] = second
            self._in_flight[cid] = asyncio.create_task(self._check(cid), name=f"check {cid}")
            started.append(cid)
        return started

    async def wait_idle(self) -> None:
        """Until every check started so far has ended (for tests and the benchmark)."""
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _refresh(self) -> None:
        try:
            self.campaigns = await list_index(self.journal.store, IndexKind.CAMPAIGNS)
        except (Unavailable, InDoubt) as exc:
            log.warning("can't list campaigns (%s); checking the %d known", exc,
                        len(self.campaigns))

    async def _check(self, cid: str) -> None:
        try:
            async with self._slots:
                check = await asyncio.wait_for(self.journal.check_campaign(cid), self._timeout_s)
            self.counters.checks += 1
            if check.repaired is not None:
                self._record(check.repaired.campaign, check.repaired.slot, check.bought_at)
        except NotFound:
            self.counters.checks += 1  # listed but not created (yet): nothing to check
        except (Unavailable, InDoubt, JournalError, TimeoutError) as exc:
            self.counters.failed_checks += 1
            log.warning("check of campaign %s failed (%s: %s); next tick retries", cid,
                        type(exc).__name__, exc)
        finally:
            self._in_flight.pop(cid, None)

    def _record(self, cid: str, slot: int, bought_at: int | None) -> None:
        now = self.journal.rt.clock()
        delay = 0 if bought_at is None else now - bought_at
        record = RepairRecord(cid, slot, bought_at is None, now, delay)
        self.counters.repairs += 1
        self.counters.last_repairs.appendleft(record)
        repairs.add(1, {"void": record.void})
        if not record.void:
            repair_delay.record(delay)
        what = "void" if record.void else f"purchase made {delay} ms ago"
        log.info("repaired campaign %s slot %d (%s)", cid, slot, what)


