"""What the demo shows while it runs: on a terminal, a block redrawn twice a second; otherwise
(``--headless``, or output to a file or pipe) one progress line every five seconds."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TextIO

from services.lab.cluster import Cluster
from services.lab.loadgen import nearest_rank

from ._buyers import BuyerTally
from ._chaos import Chaos
from ._repairs import RepairTally
from ._units import ms
from ._watcher import FillWatcher

REDRAW_S = 0.5
PROGRESS_S = 5.0


@dataclass
class Sources:
    """Everything the view reads (and the summary, later)."""

    cluster: Cluster
    buyers: BuyerTally
    watcher: FillWatcher
    repairs: RepairTally
    chaos: Chaos | None
    duration_s: float
    started: float  # time.monotonic() when the buyers started


class LiveView:
    def __init__(self, sources: Sources, out: TextIO, live: bool) -> None:
        self.s = sources
        self.out = out
        self.live = live
        self._drawn = 0  # lines of the last redraw

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            await asyncio.sleep(REDRAW_S if self.live else PROGRESS_S)
            self.show()

    def show(self) -> None:
        if not self.live:
            print(self.progress_line(), file=self.out, flush=True)
            return
        lines = self.block()
        up = f"\033[{self._drawn}F" if self._drawn else ""
        self.out.write(up + "".join(f"\033[K{line}\n" for line in lines) + "\033[J")
        self.out.flush()
        self._drawn = len(lines)

    def progress_line(self) -> str:
        b, w, r = self.s.buyers, self.s.watcher, self.s.repairs
        kills = (", ".join(f"{k} {n}" for k, n in sorted(self.s.chaos.kills.items()))
                 or "none yet") if self.s.chaos else "off"
        last = self.s.chaos.events[-1][1] if self.s.chaos and self.s.chaos.events else "-"
        return (f"[{self._elapsed():5.1f}/{self.s.duration_s:g} s] "
                f"{b.purchases_per_s():.1f} purchases/s, bought {b.bought}, lost races "
                f"{b.lost_races}, errors {sum(b.errors.values())}, repairs {r.repairs}, "
                f"notify lag p50 {ms(nearest_rank(w.lags_ms, 50))} p99 "
                f"{ms(nearest_rank(w.lags_ms, 99))}; kills: {kills}; last: {last}")

    def block(self) -> list[str]:
        b, w, r, c = self.s.buyers, self.s.watcher, self.s.repairs, self.s.chaos
        errors = ", ".join(f"{k} {n}" for k, n in sorted(b.errors.items())) or "none"
        logins = ", ".join(f"{k.lower()} {n}" for k, n in sorted(b.logins.items())) or "none"
        lines = [
            f"abc demo   {self._elapsed():5.1f} / {self.s.duration_s:g} s",
            f"  purchases   {b.purchases_per_s():6.1f}/s   bought {b.bought}   "
            f"lost races {b.lost_races}   priced out {b.priced_out}",
            f"  errors      {errors}",
            f"  logins      {logins}",
            f"  repairs     {r.repairs} by the posse   delay p50 "
            f"{ms(nearest_rank(r.delays_ms, 50))}   max {ms(max(r.delays_ms, default=None))}",
            f"  notify lag  p50 {ms(nearest_rank(w.lags_ms, 50))}   p99 "
            f"{ms(nearest_rank(w.lags_ms, 99))}   slots seen {w.fills}",
            f"  processes   {self._processes()}",
        ]
        if self.s.cluster.layout.gateway_url is not None:
            lines.append(f"  browser     {self.s.cluster.layout.gateway_url}")
        if c is not None:
            kills = "   ".join(f"{k} {c.kills[k]}" for k in sorted(c.kills)) or "none yet"
            lines.append(f"  kills       {kills}")
            lines += [f"    {at:5.1f} s  {what}" for at, what in list(c.events)[-3:]]
        return lines

    def _processes(self) -> str:
        cluster = self.s.cluster
        down = [] if cluster.nats_alive() else ["nats"]
        down += [child.name for child in cluster.dead()]
        return f"down: {', '.join(down)}" if down else "all up"

    def _elapsed(self) -> float:
        return min(time.monotonic() - self.s.started, self.s.duration_s)
