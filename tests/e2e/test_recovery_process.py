"""The recovery posse as real processes: a purchase process dies right after a protocol step
(the fault switch), three ``abc serve recovery`` replicas on the same sqlite store and NATS
finish what was committed, and the buyer's next login finds the right balance.

- died after the lock (``buy.intent``): nothing committed; the posse has nothing to finish and
  the buyer's login rolls the purchase back after its grace (balance untouched);
- died after the fill, the receipt or the debit: committed; the posse finishes the slot within
  about a second (the debit crash leaves it only the advance), the buyer is charged once.

The replicas, NATS and a healthy purchase process (for logins) are shared by the module; each
case has a campaign and accounts of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
import pytest

from services.api.abc.v1 import (
    events_pb2,
    purchase_pb2_grpc,
    recovery_pb2,
    recovery_pb2_grpc,
)
from services.api.abc.v1 import purchase_pb2 as pb
from services.events import fill_subject
from services.journal import Campaign, Journal, User, Void, slot_from_json, slot_key
from services.lab.cluster import Child, NatsServer, running
from services.lab.loadgen import audit_url
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE
from services.store import open_store
from tests._support.loop import run_blocking
from tests._support.processes import service
from tests._support.waiting import wait_for
from tests._support.world import store_url

TIMEOUT_S = 10
REPAIR_WITHIN_S = 15
REPLICAS = 3
BALANCE = 1000
PRICE = 10  # a fresh campaign's first slot sells at its min_price


@dataclass(frozen=True)
class Posse:
    """The module's processes: the replicas, a healthy purchase process, NATS, one store."""

    url: str
    nats_url: str
    logs: Path
    replicas: tuple[Child, ...]
    purchase: Child


@dataclass(frozen=True)
class Case:
    """One crash's own world: a buyer with BALANCE, a fresh campaign of a seller's."""

    buyer: str
    campaign: str

    @classmethod
    def named(cls, tag: str) -> Case:
        return cls(f"buyer-{tag}", f"c-{tag}")


@pytest.fixture(scope="module")
def posse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Posse]:
    logs = tmp_path_factory.mktemp("posse")
    url = store_url(logs)
    nats_server = NatsServer(logs / "nats.log").start()
    try:
        common = ["--store", url, "--nats-url", nats_server.url]
        replicas = tuple(
            service(f"recovery-{i}", ["serve", "recovery", "--ordinal", str(i), "--replicas",
                                      str(REPLICAS), "--schedule", "ordinal-shard", *common], logs)
            for i in range(REPLICAS))
        purchase = service("purchase", ["serve", "purchase", *common], logs)
        with running(*replicas, purchase):
            for replica in replicas:  # so every repair's fill event is published
                wait_for(_logged(replica, "connected to NATS"), f"{replica.name} on NATS",
                         REPAIR_WITHIN_S)
            yield Posse(url, nats_server.url, logs, replicas, purchase)
    finally:
        nats_server.stop()


# --- helpers ---------------------------------------------------------------------------------


def _logged(child: Child, text: str) -> Callable[[], bool | None]:
    return lambda: text in child.log.read_text() or None


def _set_up(url: str, case: Case) -> None:
    """The case's seller, its buyer with BALANCE and its campaign, written straight to the
    store through a journal."""
    async def run() -> None:
        store = await open_store(url)
        try:
            j = Journal(store)
            seller = f"seller-{case.campaign}"
            for uid in (seller, case.buyer):
                await j.create_account(uid)
            await j.deposit(case.buyer, "d1", BALANCE)
            await j.create_campaign(case.campaign, seller, PRICE, 60)
        finally:
            await store.close()

    run_blocking(run())


def _read(url: str, case: Case) -> tuple[User, Campaign]:
    """The buyer's account and the campaign, as the store has them now."""
    async def run() -> tuple[User, Campaign]:
        store = await open_store(url)
        try:
            j = Journal(store)
            user, campaign = await j.get_account(case.buyer), await j.get_campaign(case.campaign)
        finally:
            await store.close()
        assert isinstance(user, User) and isinstance(campaign, Campaign)
        return user, campaign

    return run_blocking(run())


def _first_slot_is_void(url: str, case: Case) -> bool:
    async def run() -> bool:
        store = await open_store(url)
        try:
            return isinstance(slot_from_json((await store.get(slot_key(case.campaign, 1))).value),
                              Void)
        finally:
            await store.close()

    return run_blocking(run())


def _crash_buy(posse: Posse, step: str, case: Case) -> None:
    """Buy through a purchase process that exits right after ``step``: the call fails
    UNAVAILABLE and the process exits with the fault switch's code."""
    crashing = service(f"crashing-{case.campaign}", ["serve", "purchase", "--store", posse.url,
                                                     "--nats-url", posse.nats_url],
                       posse.logs, {FAULT_ENV: step})
    with running(crashing):
        assert crashing.target is not None and crashing.process is not None
        with grpc.insecure_channel(crashing.target) as channel, \
                pytest.raises(grpc.RpcError) as died:
            purchase_pb2_grpc.PurchaseServiceStub(channel).Buy(
                pb.BuyRequest(user_id=case.buyer, campaign_id=case.campaign, max_price=PRICE),
                timeout=TIMEOUT_S)
        assert died.value.code() == grpc.StatusCode.UNAVAILABLE
        assert crashing.process.wait(TIMEOUT_S) == FAULT_EXIT_CODE, crashing.tail(30)
    assert f"exiting after {step}" in crashing.log.read_text()


def _statuses(posse: Posse) -> list[recovery_pb2.StatusResponse]:
    replies = []
    for replica in posse.replicas:
        assert replica.target is not None
        with grpc.insecure_channel(replica.target) as channel:
            replies.append(recovery_pb2_grpc.RecoveryServiceStub(channel).Status(
                recovery_pb2.StatusRequest(), timeout=TIMEOUT_S))
    return replies


def _repairs_of(posse: Posse, case: Case) -> list[recovery_pb2.Repair]:
    return [repair for status in _statuses(posse) for repair in status.last_repairs
            if repair.campaign_id == case.campaign]


def _two_rounds_pass(posse: Posse) -> None:
    """Until the posse has checked every campaign twice more (ordinal-shard: once a second
    each), so a campaign with something to finish would have been finished."""
    def checks() -> tuple[int, int]:
        statuses = _statuses(posse)
        return sum(s.checks for s in statuses), max(s.campaigns_known for s in statuses)

    before, known = checks()
    wait_for(lambda: checks()[0] >= before + 2 * known or None, "two rounds of checks",
             REPAIR_WITHIN_S)


def _login(posse: Posse, case: Case) -> tuple[pb.LoginResponse, float]:
    """The buyer's login through the healthy purchase process, and how long it took (s)."""
    assert posse.purchase.target is not None
    with grpc.insecure_channel(posse.purchase.target) as channel:
        began = time.monotonic()
        login = purchase_pb2_grpc.PurchaseServiceStub(channel).Login(
            pb.LoginRequest(user_id=case.buyer), timeout=TIMEOUT_S)
    return login, time.monotonic() - began


def _audit_is_clean(posse: Posse) -> None:
    assert run_blocking(audit_url(posse.url, quiescent=True)) == []


# --- the crashes -----------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["buy.fill", "finish.receipt", "finish.debit"])
def test_the_posse_finishes_a_purchase_whose_process_died_after_its_commit(
    posse: Posse, step: str,
) -> None:
    case = Case.named(step.replace(".", "-"))
    _set_up(posse.url, case)
    _crash_buy(posse, step, case)
    if step == "finish.debit":  # the driver's debit landed: only the advance is left
        user, _ = _read(posse.url, case)
        assert (user.balance, user.lock) == (BALANCE - PRICE, None)

    wait_for(lambda: _read(posse.url, case)[1].head == 1 or None, "head 1", REPAIR_WITHIN_S)
    repairs = wait_for(lambda: _repairs_of(posse, case) or None, "repair in a Status",
                       REPAIR_WITHIN_S)
    assert all((r.slot, r.void) == (1, False) and r.delay_ms > 0 for r in repairs), repairs

    login, _ = _login(posse, case)
    assert login.resolution == pb.LoginResponse.CLEAN  # the posse left nothing to settle
    assert login.account == pb.Account(user_id=case.buyer, balance=BALANCE - PRICE,
                                       locked=False)
    _audit_is_clean(posse)


def test_a_purchase_that_died_before_its_commit_is_rolled_back_by_the_buyers_login(
    posse: Posse,
) -> None:
    case = Case.named("buy-intent")
    _set_up(posse.url, case)
    _crash_buy(posse, "buy.intent", case)

    _two_rounds_pass(posse)
    # Nothing was committed, so the posse finds nothing at slot 1: the lock stays.
    user, campaign = _read(posse.url, case)
    assert (user.balance, campaign.head) == (BALANCE, 0)
    assert user.lock is not None
    assert _repairs_of(posse, case) == []

    login, took_s = _login(posse, case)
    assert login.resolution == pb.LoginResponse.ROLLED_BACK
    assert took_s >= 1.9  # the resolver's grace (2 s) for a purchase still in flight
    assert login.account == pb.Account(user_id=case.buyer, balance=BALANCE, locked=False)
    # The resolver fenced slot 1 off with a void and finished it: the head is past it.
    assert _read(posse.url, case)[1].head == 1
    assert _first_slot_is_void(posse.url, case)
    _audit_is_clean(posse)


def test_the_posse_publishes_the_fill_event_of_the_slot_it_repaired(posse: Posse) -> None:
    case = Case.named("events")
    _set_up(posse.url, case)

    async def body() -> events_pb2.FillEvent:
        watcher = await nats.connect(posse.nats_url)
        try:
            events = await watcher.subscribe(fill_subject(case.campaign))
            await watcher.flush()
            await asyncio.to_thread(_crash_buy, posse, "buy.fill", case)
            message = await events.next_msg(timeout=REPAIR_WITHIN_S)
        finally:
            await watcher.close()
        return events_pb2.FillEvent.FromString(message.data)

    event = run_blocking(body())  # a test of processes: sync, but for this subscription
    assert event.publisher == "recovery"  # the crashed purchase process published nothing
    s = event.slot
    assert (s.campaign_id, s.slot, s.buyer_id, s.price, s.void) == \
        (case.campaign, 1, case.buyer, PRICE, False)
    assert s.bought_at_ms > 0
    wait_for(lambda: _read(posse.url, case)[1].head == 1 or None, "head 1", REPAIR_WITHIN_S)
    _audit_is_clean(posse)
