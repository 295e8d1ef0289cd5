"""A payer killed with SIGKILL mid-payout pays once. A recovery replica with the webhook rail
(the local payment system, which pays each Idempotency-Key once and counts its deliveries)
claims a withdrawal and dies

- right after the claim, before calling the rail (the fault switch at ``payout.claim``), or
- right after the rail paid, before the store is told (the payment system SIGKILLs it the
  moment the payment is made);

a replica started again finds the claim older than its lease and pays it again with the same
key: the payment system made one payment, the store says paid with its reference."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from services.journal import Journal, PayoutState, Withdrawal, WithdrawalRequested
from services.lab.cluster import running
from services.lab.loadgen import audit_url
from services.lab.payments import PaymentSystem, payment_system
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE
from services.store import open_store
from tests._support.loop import run_blocking
from tests._support.processes import Service, service
from tests._support.waiting import wait_for
from tests._support.world import store_url

PAID_WITHIN_S = 20
LEASE_MS = 1000
KEY = "alice:w1"


def _withdrawal(url: str) -> Withdrawal | None:
    async def run() -> Withdrawal | None:
        store = await open_store(url)
        try:
            found = await Journal(store).get_withdrawal("alice", "w1")
        finally:
            await store.close()
        return found if isinstance(found, Withdrawal) else None

    return run_blocking(run())


def _requested(url: str) -> None:
    async def run() -> None:
        store = await open_store(url)
        try:
            j = Journal(store)
            await j.create_account("alice")
            await j.deposit("alice", "d1", 1000)
            assert isinstance(await j.withdraw("alice", "w1", 250, "bank"), WithdrawalRequested)
        finally:
            await store.close()

    run_blocking(run())


def _replica(name: str, url: str, logs: Path, system: PaymentSystem,
             fault: str | None = None) -> Service:
    env = {"ABC_PAYOUT_RAIL": "webhook", "ABC_PAYOUT_WEBHOOK_URL": system.url,
           "ABC_PAYOUT_LEASE_MS": str(LEASE_MS), "ABC_RECOVERY_TICK_MS": "200",
           **({FAULT_ENV: fault} if fault else {})}
    return service(name, ["serve", "recovery", "--ordinal", "0", "--replicas", "1", "--store",
                          url], logs, env)


def _exit_code(dying: Service) -> int:
    """Start ``dying`` and wait for it to die (it dies at its first claim, maybe before its
    server answers a health check)."""
    dying.start()
    try:
        return dying.wait_exit(PAID_WITHIN_S)
    finally:
        dying.kill()


def _paid_once_after_restart(url: str, logs: Path, system: PaymentSystem) -> Withdrawal:
    with running(_replica("recovery-again", url, logs, system)):
        wait_for(lambda: ((w := _withdrawal(url)) is not None
                          and w.state is PayoutState.PAID) or None,
                 "the withdrawal paid", PAID_WITHIN_S)
    paid = _withdrawal(url)
    assert paid is not None and paid.state is PayoutState.PAID
    assert list(system.payments) == [KEY]  # one key, one payment
    assert paid.reference == system.payments[KEY]
    assert system.paid_amounts[KEY] == 250
    assert run_blocking(audit_url(url, quiescent=True)) == []
    return paid


@pytest.mark.timeout(90)
def test_a_payer_killed_after_its_claim_is_paid_once_by_the_next(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    _requested(url)
    with payment_system() as system:
        dying = _replica("recovery-dies", url, tmp_path, system, fault="payout.claim")
        assert _exit_code(dying) == FAULT_EXIT_CODE
        claimed = _withdrawal(url)
        assert claimed is not None and claimed.state is PayoutState.PAYING
        assert system.deliveries[KEY] == 0  # it died before calling the rail
        paid = _paid_once_after_restart(url, tmp_path, system)
        assert system.deliveries[KEY] == 1
        # The dead payer's claim stands; the new process re-drove it once the lease was up.
        assert paid.payer == claimed.payer and claimed.claimed_at is not None
        assert paid.updated_at - claimed.claimed_at >= LEASE_MS


@pytest.mark.timeout(90)
def test_a_payer_killed_after_the_rail_paid_is_paid_once_by_the_next(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    _requested(url)
    with payment_system() as system:
        dying = _replica("recovery-dies", url, tmp_path, system)

        def kill_the_caller(_key: str) -> None:
            assert dying.process is not None
            system.on_paid = None  # only the first payment
            os.kill(dying.process.pid, signal.SIGKILL)

        system.on_paid = kill_the_caller
        assert _exit_code(dying) == -signal.SIGKILL
        claimed = _withdrawal(url)
        assert claimed is not None and claimed.state is PayoutState.PAYING  # never told
        assert system.deliveries[KEY] == 1 and KEY in system.payments
        _paid_once_after_restart(url, tmp_path, system)
        assert system.deliveries[KEY] == 2  # asked again with the same key, paid once
