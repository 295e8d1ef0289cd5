"""The payer: pays withdrawals out through the payout rail (``services/payouts``). One runs in
every recovery replica, beside the posse, in the same process (``start_recovery`` starts
both), so N replicas are N payers, splitting the work as below.

Each interval (the replica's tick) a payer lists the withdrawals index, skips the ones it
knows are paid or refunded (kept in memory: they never move again), reads the ones due a look
and acts on what it finds:

- ``requested``: it claims the ones assigned to it (a stable hash of ``<uid>:<wid>`` mod N ==
  its ordinal), and any that has waited a lease (its payer may be dead): CAS ``requested ->
  paying`` with ``payer`` = this payer's id and ``claimed_at`` = now. The withdrawal that
  comes back names the claim that won; not this payer's (with this time): it leaves it. Then
  it calls the rail with the try's idempotency key (``<uid>:<wid>``, or ``<uid>:<wid>:<n>``
  for the n-th try after the operator retried a refused one) and moves the withdrawal
  ``paying -> paid`` (the rail's reference) or ``paying -> failed`` (the rail's reason),
  naming the try it asked about, so an answer about an earlier try never moves a later one.
- ``paying``: its own claim (a call that got no answer, or an in-doubt claim that landed after
  all) is asked about again when its backoff is up. Another payer's claim older than the lease
  is re-driven by whoever finds it: the rail is called again with the same key, so the payment
  system pays once whoever asks, and the withdrawal is never rejected. Only payers' claims
  (ids ``recovery-...``) are re-driven: one an operator took by hand stays theirs.
- ``rejected``: refunded (the operator's reject refunds at once; this finishes one whose
  refund was interrupted), by the assigned payer at once, by any after a lease.
- ``failed``: the operator's to retry or reject; nothing.

With the ``manual`` rail a payer claims and calls nothing; it only finishes refunds.

Bounded everywhere: at most ``looks_per_tick`` reads and ``calls_per_tick`` rail calls a
tick, at most one call per withdrawal a tick, ``concurrency`` at a time; a call left without
answer makes this payer wait 1 s, 2 s, 4 s ... (at most 60 s) before asking about that
withdrawal again. Withdrawals this payer does not act on are read every quarter lease (and
when they come of age), not every tick. A store error is logged and a later tick retries, as
the posse's checks do. The lease compares another node's clock (``claimed_at``,
``updated_at``) with ours: a skew only moves a re-drive earlier or later, and a re-drive is
always safe (same key).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from services.journal import (
    AccountBusy,
    Interrupted,
    Journal,
    Missing,
    PayoutState,
    Refunded,
    Withdrawal,
    WrongState,
    idempotency_key_of,
)
from services.payouts import NoAnswer, Paid, PayoutOrder, PayoutRail, Refused

from ._schedules import stable_hash

log = logging.getLogger("abc.recovery.payer")

PAYER_PREFIX = "recovery-"
LEASE_MS = 30_000
DONE = frozenset({PayoutState.PAID, PayoutState.REFUNDED})


@dataclass(frozen=True)
class Backoff:
    """The wait after the ``failures``-th call in a row left without answer: ``base_ms``,
    doubling, at most ``cap_ms``."""

    base_ms: int = 1000
    cap_ms: int = 60_000

    def delay(self, failures: int) -> int:
        doublings: int = min(max(failures, 1) - 1, 30)
        return min(self.cap_ms, self.base_ms << doublings)


@dataclass
class PayerCounters:
    looks: int = 0  # withdrawals read
    claims: int = 0  # requested -> paying by this payer
    calls: int = 0  # rail calls
    paid: int = 0
    refused: int = 0  # the rail refused: failed
    unanswered: int = 0  # calls without answer: still paying
    refunds: int = 0
    failed: int = 0  # store errors (retried at a later tick)


@dataclass(frozen=True)
class _Retry:
    """A try the rail left without answer ``failures`` times: asked again at
    ``next_call_at`` (ms)."""

    of_try: int
    failures: int
    next_call_at: int


@dataclass(frozen=True)
class _Answer:
    """The rail's answer about try ``of_try``, kept until it is written down."""

    of_try: int
    said: Paid | Refused


@dataclass
class _Tick:
    """One tick: its time (ms), and how many rail calls it may still make."""

    now: int
    calls_left: int


def split_entry(entry: str) -> tuple[str, str]:
    """``(uid, wid)`` of ``<uid>:<wid>`` (ids never hold ``:``)."""
    uid, _, wid = entry.partition(":")
    return uid, wid


def order_of(uid: str, wid: str, withdrawal: Withdrawal) -> PayoutOrder:
    """The rail's order for ``withdrawal``'s current try."""
    return PayoutOrder(uid, wid, withdrawal.amount, withdrawal.fee, withdrawal.destination,
                       idempotency_key_of(uid, wid, withdrawal.tries))


class Payer:
    """Payer ``ordinal`` of ``replicas`` (its replica's), paying through ``rail``."""

    def __init__(self, journal: Journal, rail: PayoutRail, ordinal: int, replicas: int, *,
                 lease_ms: int = LEASE_MS, interval_ms: int = 1000,
                 backoff: Backoff | None = None, looks_per_tick: int = 256,
                 calls_per_tick: int = 16, concurrency: int = 8,
                 payer_id: str | None = None) -> None:
        self.journal = journal
        self.rail = rail
        self.ordinal = ordinal
        self.replicas = replicas
        self.lease_ms = lease_ms
        self.interval_ms = interval_ms
        self.backoff = backoff if backoff is not None else Backoff()
        self.looks_per_tick = looks_per_tick
        self.calls_per_tick = calls_per_tick
        # Unique per process: a restarted replica does not take its old claims for its own.
        self.payer_id = payer_id or f"{PAYER_PREFIX}{ordinal}-{uuid.uuid4().hex[:8]}"
        self.counters = PayerCounters()
        self._slots = asyncio.Semaphore(concurrency)
        self._done: set[str] = set()  # paid or refunded: never looked at again
        self._next_look: dict[str, int] = {}
        self._retries: dict[str, _Retry] = {}
        self._answers: dict[str, _Answer] = {}  # rail answers not yet written down

    async def run(self, stop: asyncio.Event) -> None:
        """Tick at the start of every interval until ``stop``."""
        while not stop.is_set():
            await self.tick()
            wait_s = (self.interval_ms - self.journal.now() % self.interval_ms) / 1000
            try:
                await asyncio.wait_for(stop.wait(), wait_s)
            except TimeoutError:
                continue

    async def tick(self) -> list[str]:
        """Look at the withdrawals due a look; returns them."""
        tick = _Tick(self.journal.now(), self.calls_per_tick)
        listed = await self.journal.all_withdrawals()
        if isinstance(listed, Interrupted):
            self.counters.failed += 1
            log.warning("can't list withdrawals (%s); the next tick retries", listed.detail)
            return []
        entries = [f"{uid}:{wid}" for uid, wid in listed]
        due = sorted((e for e in entries
                      if e not in self._done and self._next_look.get(e, 0) <= tick.now),
                     key=lambda e: self._next_look.get(e, 0))[:self.looks_per_tick]
        results = await asyncio.gather(*(self._look(e, tick) for e in due),
                                       return_exceptions=True)
        for entry, result in zip(due, results, strict=True):
            if isinstance(result, Exception):  # a bug: logged, and the payer goes on
                log.error("payer: withdrawal %s: %r", entry, result, exc_info=result)
            elif isinstance(result, BaseException):
                raise result
        return due

    async def _look(self, entry: str, tick: _Tick) -> None:
        uid, wid = split_entry(entry)
        async with self._slots:
            found = await self.journal.get_withdrawal(uid, wid)
            self.counters.looks += 1
            match found:
                case Withdrawal():
                    await self._act(entry, found, tick)
                    if entry not in self._done:
                        self._next_look[entry] = self._next_time(entry, found, tick.now)
                case Missing():  # indexed, not (yet) committed
                    self._next_look[entry] = self._next_time(entry, None, tick.now)
                case Interrupted():
                    self.counters.failed += 1
                    log.warning("can't read withdrawal %s (%s)", entry, found.detail)
                case _:
                    self._finished(entry)
                    log.error("withdrawal index entry %r is not <user>:<withdrawal>", entry)

    async def _act(self, entry: str, withdrawal: Withdrawal, tick: _Tick) -> None:
        state, automatic = withdrawal.state, self.rail.automatic
        if state in DONE:
            self._finished(entry)
        elif state is PayoutState.REQUESTED:
            if automatic and (self._assigned(entry) or self._aged(withdrawal.updated_at, tick)):
                await self._claim(entry, tick)
        elif state is PayoutState.PAYING:
            if automatic and (withdrawal.payer == self.payer_id or (
                    (withdrawal.payer or "").startswith(PAYER_PREFIX)
                    and self._aged(withdrawal.claimed_at, tick))):
                await self._drive(entry, withdrawal, tick)
        elif state is PayoutState.REJECTED and (
                self._assigned(entry) or self._aged(withdrawal.updated_at, tick)):
            await self._refund(entry)

    async def _claim(self, entry: str, tick: _Tick) -> None:
        uid, wid = split_entry(entry)
        stamp = self.journal.now()
        moved = await self.journal.move_payout(uid, wid, PayoutState.PAYING,
                                               payer=self.payer_id, claimed_at=stamp)
        if isinstance(moved, Interrupted):  # if it landed, it names this payer: driven later
            self.counters.failed += 1
            log.warning("claim of withdrawal %s interrupted (%s)", entry, moved.detail)
            return
        if not (isinstance(moved, Withdrawal) and moved.state is PayoutState.PAYING
                and moved.payer == self.payer_id and moved.claimed_at == stamp):
            return  # another payer claimed it, or it is no longer requested
        self.counters.claims += 1
        self._retries.pop(entry, None)
        self._answers.pop(entry, None)
        await self._drive(entry, moved, tick)

    async def _drive(self, entry: str, withdrawal: Withdrawal, tick: _Tick) -> None:
        """Ask the rail to pay a paying withdrawal (once per tick, after its backoff) and
        write down the answer."""
        of_try = withdrawal.tries
        retry = self._retries.get(entry)
        if retry is not None and retry.of_try != of_try:
            retry = None
        if retry is not None and retry.next_call_at > tick.now:
            return
        answer = self._answers.get(entry)
        if answer is None or answer.of_try != of_try:
            if tick.calls_left <= 0:
                return
            tick.calls_left -= 1
            self.counters.calls += 1
            uid, wid = split_entry(entry)
            order = order_of(uid, wid, withdrawal)
            called = await self.rail.pay(order)
            if isinstance(called, NoAnswer):
                failures = 1 if retry is None else retry.failures + 1
                wait = self.backoff.delay(failures)
                self._retries[entry] = _Retry(of_try, failures, self.journal.now() + wait)
                self.counters.unanswered += 1
                log.warning("payout %s: no answer (%s); asked again in %d ms, key %s", entry,
                            called.detail, wait, order.idempotency_key)
                return
            answer = self._answers[entry] = _Answer(of_try, called)
        await self._write(entry, answer)

    async def _write(self, entry: str, answer: _Answer) -> None:
        uid, wid = split_entry(entry)
        said = answer.said
        if isinstance(said, Paid):
            moved = await self.journal.move_payout(uid, wid, PayoutState.PAID, answer.of_try,
                                                   reference=said.reference)
        else:
            moved = await self.journal.move_payout(uid, wid, PayoutState.FAILED, answer.of_try,
                                                   reason=said.reason)
        match moved:
            case Interrupted():  # the answer is kept: the next tick writes it, no new call
                self.counters.failed += 1
                log.warning("payout %s: can't write %s yet (%s)", entry, said, moved.detail)
            case Withdrawal(state=PayoutState.PAID):
                self.counters.paid += 1
                log.info("paid withdrawal %s: %s", entry, moved.reference)
                self._finished(entry)
            case Withdrawal(state=PayoutState.FAILED):
                self.counters.refused += 1
                log.warning("payout %s refused: %s", entry, moved.reason)
                self._forget(entry)
            case WrongState() | Missing() | Withdrawal():  # moved on: another try, or operator
                log.warning("payout %s: the rail said %s of try %d, but the withdrawal is %s",
                            entry, said, answer.of_try, moved)
                self._forget(entry)

    async def _refund(self, entry: str) -> None:
        uid, wid = split_entry(entry)
        outcome = await self.journal.refund(uid, wid)
        match outcome:
            case Refunded():
                self.counters.refunds += 1
                log.info("refunded rejected withdrawal %s: %d", entry, outcome.amount)
                self._finished(entry)
            case Interrupted():
                self.counters.failed += 1
                log.warning("refund of %s interrupted (%s)", entry, outcome.detail)
            case AccountBusy() | WrongState():
                pass  # the user is in another op / the state moved: a later look sees
            case _:
                log.error("refund of %s: %s", entry, outcome)

    def _assigned(self, entry: str) -> bool:
        return stable_hash(entry) % self.replicas == self.ordinal

    def _aged(self, since: int | None, tick: _Tick) -> bool:
        return since is not None and tick.now - since >= self.lease_ms

    def _next_time(self, entry: str, withdrawal: Withdrawal | None, now: int) -> int:
        """When to read ``entry`` again: next tick if this payer acts on it (assigned to it,
        its claim, or a call of its waiting for an answer or to be written), else in a
        quarter lease, or when it comes of age if sooner."""
        if (self.rail.automatic and self._assigned(entry)) or (
                withdrawal is not None and withdrawal.payer == self.payer_id) or (
                entry in self._retries or entry in self._answers):
            return now
        later = now + self.lease_ms // 4
        if withdrawal is None:
            return later
        since = (withdrawal.claimed_at if withdrawal.state is PayoutState.PAYING
                 else withdrawal.updated_at)
        if since is not None and now < since + self.lease_ms:
            return min(later, since + self.lease_ms)
        return later

    def _finished(self, entry: str) -> None:
        self._done.add(entry)
        self._next_look.pop(entry, None)
        self._forget(entry)

    def _forget(self, entry: str) -> None:
        self._retries.pop(entry, None)
        self._answers.pop(entry, None)
