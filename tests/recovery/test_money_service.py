"""A recovery replica as the service starts it (sqlite store, webhook rail to a real payment
system): its posse credits the seller, its payer pays the seller's withdrawal once, and the
books balance afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.journal import (
    Bought,
    Journal,
    PayoutState,
    User,
    Withdrawal,
    WithdrawalRequested,
)
from services.lab.payments import payment_system
from services.payouts import PayoutConfig
from services.recovery import RecoveryConfig, start_recovery
from services.runtime import ServerConfig
from services.store import open_store
from tests._support.waiting import eventually
from tests._support.world import store_url


@pytest.mark.asyncio
async def test_a_replica_credits_the_seller_and_pays_their_withdrawal(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    store = await open_store(url)
    journal = Journal(store)
    try:
        for uid in ("bob", "alice"):
            await journal.create_account(uid)
        await journal.deposit("alice", "d1", 1000)
        await journal.create_campaign("c1", "bob", 100, 60)
        assert isinstance(await journal.buy("alice", "c1", 100), Bought)
        with payment_system() as system:
            recovery = await start_recovery(RecoveryConfig(
                url, 0, 1, server=ServerConfig(listen="127.0.0.1:0"), tick_ms=100,
                payout=PayoutConfig("webhook", system.url, timeout_ms=2000)))
            try:
                await eventually(lambda: recovery.replica.counters.credits == 1, 5,
                                 "bob credited")
                bob = await journal.get_account("bob")
                assert isinstance(bob, User) and bob.balance == 98  # 100 less the 1.5% fee
                asked = await journal.withdraw("bob", "w1", 90, "IBAN-bob")
                assert isinstance(asked, WithdrawalRequested), asked
                await eventually(lambda: recovery.payer.counters.paid == 1, 5, "w1 paid")
            finally:
                await recovery.stop(grace_s=0.5)
        paid = await journal.get_withdrawal("bob", "w1")
        assert isinstance(paid, Withdrawal) and paid.state is PayoutState.PAID
        assert paid.reference == "pay-1" and system.deliveries == {"bob:w1": 1}
        assert system.paid_amounts == {"bob:w1": 90}
        assert await journal.audit(quiescent=True) == []
    finally:
        await store.close()
