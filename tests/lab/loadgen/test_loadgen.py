"""The load generator: the world it sets up, the stats its buyers return, ``abc load``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.cli import main
from services.journal import Bought, Campaign, Journal, User, audit, read_documents
from services.lab.loadgen import (
    CountingStore,
    LoadStats,
    SetupError,
    YieldingStore,
    balance_for,
    run_buyers,
    set_up,
)
from services.store import DocumentStore, MemoryStore


def test_set_up_creates_users_owner_campaigns_and_deposits() -> None:
    async def scenario() -> None:
        journal = Journal(MemoryStore())
        world = await set_up(journal, users=3, campaigns=2, balance=500, prefix="t-")
        assert world.users == ("t-u0001", "t-u0002", "t-u0003")
        assert world.campaigns == ("t-c0001", "t-c0002")
        assert world.owner == "t-owner"
        for uid in world.users:
            user = await journal.get_account(uid)
            assert isinstance(user, User) and user.balance == 500 and user.lock is None
        owner = await journal.get_account("t-owner")
        assert isinstance(owner, User) and owner.balance == 0
        for cid in world.campaigns:
            campaign = await journal.get_campaign(cid)
            assert isinstance(campaign, Campaign)
            assert (campaign.owner, campaign.min_price, campaign.slot_seconds) == ("t-owner", 1, 1)
            assert campaign.head == 0
        assert await audit(journal.store, quiescent=True) == []

    asyncio.run(scenario())


def test_set_up_refuses_a_prefix_already_used() -> None:
    async def scenario() -> None:
        journal = Journal(MemoryStore())
        await set_up(journal, users=1, campaigns=1, balance=10, prefix="a-")
        with pytest.raises(SetupError, match="already exists"):
            await set_up(journal, users=1, campaigns=1, balance=10, prefix="a-")
        await set_up(journal, users=1, campaigns=1, balance=10, prefix="b-")  # a new world

    asyncio.run(scenario())


def _consistent(stats: LoadStats, purchases: int, receipts: int) -> None:
    assert stats.attempts == purchases == len(stats.latencies_ms)
    assert stats.bought == receipts  # what the buyers counted is what the store holds
    assert stats.elapsed_s > 0 and all(ms >= 0 for ms in stats.latencies_ms)


async def _receipts(store: DocumentStore) -> int:
    return sum([key.startswith("txn:") async for key, _, _ in read_documents(store)])


@pytest.mark.parametrize("hot", [False, True])
def test_run_buyers_stats_add_up_and_the_audit_is_clean(hot: bool) -> None:
    async def scenario() -> tuple[LoadStats, int]:
        # Interleaved at every store op, so buyers on one hot campaign really race.
        store = YieldingStore(MemoryStore())
        journal = Journal(store)
        world = await set_up(journal, users=6, campaigns=3, balance=balance_for(6))
        stats = await run_buyers(journal, 4, 40, world.campaigns, users=world.users, hot=hot)
        assert await audit(store, quiescent=True) == []
        return stats, await _receipts(store)

    stats, receipts = asyncio.run(scenario())
    _consistent(stats, 40, receipts)
    assert stats.bought > 0
    if hot:
        assert stats.lost_races > 0


def test_run_buyers_stops_at_the_deadline_and_reports_progress() -> None:
    seen: list[int] = []

    async def scenario() -> LoadStats:
        journal = Journal(YieldingStore(MemoryStore()))
        world = await set_up(journal, users=2, campaigns=50, balance=balance_for(2))
        return await run_buyers(journal, 2, 10**9, world.campaigns, users=world.users,
                                deadline_s=0.3, on_progress=lambda s: seen.append(s.attempts),
                                progress_every_s=0.1)

    stats = asyncio.run(scenario())
    assert 0 < stats.attempts < 10**9 and stats.elapsed_s < 5
    assert seen and seen[-1] <= stats.attempts  # reported while it ran, never ahead


def test_an_uncontended_purchase_costs_seven_store_operations() -> None:
    async def scenario() -> None:
        store = CountingStore(MemoryStore())
        journal = Journal(store)
        world = await set_up(journal, users=1, campaigns=1, balance=100)
        store.reset()
        outcome = await journal.buy(world.users[0], world.campaigns[0], max_price=10)
        assert isinstance(outcome, Bought)
        assert dict(store.ops) == {"get": 2, "insert": 2, "replace": 3}
        assert store.total == 7

    asyncio.run(scenario())


def test_abc_load_on_sqlite_then_the_quiescent_audit_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/new/x.db"  # an absolute path: four slashes; dir made on demand
    assert main(["load", "--store", url, "--purchases", "30"]) == 0
    out = capsys.readouterr().out
    assert "attempts" in out and "purchases/s" in out and "p99" in out
    assert f"abc audit --store {url} --quiescent" in out
    assert main(["load", "--store", url, "--purchases", "30", "--hot"]) == 0  # a second world
    assert main(["audit", "--store", url, "--quiescent"]) == 0


def test_abc_load_on_memory_audits_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--store", "memory://", "--purchases", "20", "--buyers", "3"]) == 0
    assert "quiescent audit (in process, memory store): 0 violation(s)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["load", "--store", "bogus://nowhere"],
    ["load", "--store", "sqlite:///"],
    ["load", "--store", "memory://", "--buyers", "0"],
])
def test_bad_input_is_one_line_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("abc: ") and err.count("\n") == 1
    assert "Traceback" not in err
