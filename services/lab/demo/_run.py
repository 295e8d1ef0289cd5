"""One demo run: the cluster started, the world, the watcher, the buyers and the chaos for
``duration_s``; then everything alive again, the buyers stopped, recovery settled, and the
verdict. When ``interrupted()`` turns true (the caller's stop-signal flag) the run ends early
with ``Verdict.INTERRUPTED``, even while the cluster starts; the caller stops the cluster
either way."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from services.lab.cluster import Cluster
from services.lab.payments import PaymentSystem
from services.recovery import recovery_listen
from services.store import DocumentStore, StoreUrlError, Unavailable, open_store

from ._aim import Sights
from ._buyers import Buyers
from ._chaos import Chaos, chaos_plan, revive, victims_of
from ._errors import DemoError
from ._finale import verdict
from ._market import PriceBoard
from ._money import MoneySettled, Withdrawers, await_money_settled
from ._pool import PurchasePool
from ._repairs import POLL_S, RepairTally
from ._settle import Settled, await_finished_campaigns, await_watcher, log_everyone_in
from ._summary import Ending
from ._view import LiveView, Sources
from ._watcher import FillWatcher
from ._world import MAX_PRICE, OWNER, World, create_world

READY_S = 30.0  # for the watcher's first snapshots
CHECK_STOP_S = 0.05  # how often ``interrupted`` is asked


class Verdict(enum.Enum):
    """How a run ended; the value is the exit code."""

    CLEAN = 0
    NOT_CLEAN = 1
    INTERRUPTED = 130


@dataclass(frozen=True)
class DemoConfig:
    duration_s: float = 60.0  # of buying under chaos
    seed: int = 0  # the chaos plan and the buyers' choices
    users: int = 100
    campaigns: int = 30  # one hot, the rest quiet; at most 100 (one Watch stream)
    buyers: int = 24  # concurrent buyers
    chaos: bool = True
    live: bool = False  # redraw a live view (a terminal); else a progress line every 5 s


async def run_demo(cluster: Cluster, config: DemoConfig, payments: PaymentSystem, out: TextIO,
                   interrupted: Callable[[], bool] = lambda: False) -> Verdict:
    """The demo on ``cluster``, whose payers pay through ``payments`` (its webhook rail)."""
    demo = asyncio.create_task(_demo(cluster, config, payments, out))
    while not demo.done():
        await asyncio.wait({demo}, timeout=CHECK_STOP_S)
        if interrupted() and not demo.done():
            print("\ninterrupted: stopping...", file=out, flush=True)
            demo.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await demo
            return Verdict.INTERRUPTED
    return demo.result()


async def _demo(cluster: Cluster, config: DemoConfig, payments: PaymentSystem,
                out: TextIO) -> Verdict:
    await asyncio.to_thread(cluster.start)
    if cluster.layout.gateway_url is not None:
        print(f"the system is up; watch it in a browser: {cluster.layout.gateway_url}",
              file=out, flush=True)
    try:
        store = await open_store(cluster.layout.store_url)
    except (StoreUrlError, Unavailable) as exc:
        raise DemoError(f"can't open the store the services use: {exc}") from exc
    pool = PurchasePool(cluster.layout.purchase, config.seed)
    try:
        print(f"setting up {config.users} users and {config.campaigns} campaigns...", file=out,
              flush=True)
        world = await create_world(pool, config.users, config.campaigns)
        if cluster.layout.gateway_url is not None:
            print(f"the hot campaign, live: {cluster.layout.gateway_url}/campaigns/{world.hot}",
                  file=out, flush=True)
        try:
            ending = await _Run(cluster, config, pool, store, world, payments, out).play()
        except ExceptionGroup as group:
            if len(group.exceptions) == 1 and isinstance(group.exceptions[0], DemoError):
                raise group.exceptions[0] from None
            raise
    finally:
        await store.close()
        await pool.close()
    print(ending.report(), file=out, flush=True)
    return Verdict.NOT_CLEAN if ending.problems() else Verdict.CLEAN


class _Run:
    def __init__(self, cluster: Cluster, config: DemoConfig, pool: PurchasePool,
                 store: DocumentStore, world: World, payments: PaymentSystem,
                 out: TextIO) -> None:
        self.cluster, self.config, self.pool, self.store = cluster, config, pool, store
        self.world, self.payments, self.out = world, payments, out
        self.withdrawers = Withdrawers(pool, world, config.seed)
        self.board = board = PriceBoard(MAX_PRICE)
        self.watcher = FillWatcher(cluster.layout.notify, world.campaigns, board)
        lay = cluster.layout
        self.repairs = RepairTally([recovery_listen(i, lay.recovery_port_base)
                                    for i in range(lay.recovery_replicas)])
        self.buyers = Buyers(pool, world, board, config.buyers, config.seed)
        self.failed_restarts: list[str] = []

    async def play(self) -> Ending:
        async with asyncio.TaskGroup() as group:
            background = [group.create_task(self.watcher.run()),
                          group.create_task(self.repairs.run())]
            await self._watcher_ready()
            sources, elapsed = await self._buy_under_chaos(group)
            settled, money = await self._settle()
            await asyncio.sleep(2 * POLL_S)  # the replicas' last repairs, polled
            for task in background:
                task.cancel()
        books = await verdict(self.store, self.pool, self.world, self.buyers.tally,
                              self.payments, self.withdrawers)
        return Ending(sources, settled, books, elapsed, self.failed_restarts, money,
                      self.withdrawers)

    async def _buy_under_chaos(self, group: asyncio.TaskGroup) -> tuple[Sources, float]:
        """The buyers (and the chaos) for ``duration_s``, on view; then wound down."""
        config, started = self.config, time.monotonic()
        sights = Sights(self.store, self.board, self.world.campaigns[1:],
                        self.buyers.tally.calls)
        chaos = Chaos(self.cluster, chaos_plan(config.seed, victims_of(self.cluster)), started,
                      sights.aim, sights.aim_payout) if config.chaos else None
        sources = Sources(self.cluster, self.buyers.tally, self.watcher, self.repairs, chaos,
                          config.duration_s, started)
        view = LiveView(sources, self.out, config.live)
        showing = group.create_task(view.run())
        buying = group.create_task(self.buyers.run())
        withdrawing = group.create_task(self.withdrawers.run())
        striking = group.create_task(chaos.run()) if chaos is not None else None
        self._say(f"buying for {config.duration_s:g} s with {config.buyers} buyers"
                  f"{', under chaos' if chaos else ''} (seed {config.seed})")
        await asyncio.sleep(config.duration_s)
        elapsed = time.monotonic() - started
        revived = await self._wind_down(chaos, striking, buying, withdrawing)
        showing.cancel()
        view.show()  # the last frame
        restarted = f"restarted {', '.join(revived)}, " if revived else ""
        self._say(f"stopped: chaos off, {restarted}buyers done; settling")
        return sources, elapsed

    async def _watcher_ready(self) -> None:
        try:
            await asyncio.wait_for(self.watcher.ready.wait(), READY_S)
        except TimeoutError:
            raise DemoError(f"no snapshot from notify at {self.watcher.target} within "
                            f"{READY_S:g} s ({dict(self.watcher.stream_errors)})") from None

    async def _wind_down(self, chaos: Chaos | None, striking: asyncio.Task[None] | None,
                         buying: asyncio.Task[None],
                         withdrawing: asyncio.Task[None]) -> list[str]:
        """Chaos off, everything alive again, the buyers and withdrawers stopped; what was
        restarted."""
        if chaos is not None and striking is not None:
            chaos.stop.set()
            await striking
        revived, self.failed_restarts = await asyncio.to_thread(revive, self.cluster)
        self.buyers.stop.set()
        self.withdrawers.stop.set()
        await buying
        await withdrawing
        return revived

    async def _settle(self) -> tuple[Settled, MoneySettled]:
        settled, money = Settled(), MoneySettled()
        began = time.monotonic()
        await log_everyone_in(self.pool, (OWNER, *self.world.users), settled)
        await await_finished_campaigns(self.store, self.world.campaigns, settled)
        await await_watcher(self.watcher, settled)
        await await_money_settled(self.store, money)
        self._say(f"settled in {time.monotonic() - began:.1f} s; auditing")
        return settled, money

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)
