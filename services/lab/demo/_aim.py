"""Where a purchase strike lands: right after a purchase served by the victim has committed
(its slot is in the store) and before it has finished (the campaign's head is not past it),
so that the kill leaves recovery a slot to repair: the posse, or the buyer's next login.

Aimed at quiet campaigns: on the hot one the race's losers finish the winner's slot at once
(a buyer finishes an unfinished slot before trying the next), leaving recovery nothing to do.
Watched in process on the store around the next moment a quiet campaign's price falls within
reach (from the price board); a commit whose buyer's Buy call went to another process does not
count. If none comes within ``AIM_S`` the strike lands anyway.

A recovery strike lands while the victim's payer holds a withdrawal's claim (``paying``: it is
calling the payment system, which answers slowly in the demo), so the kill leaves another
payer to pay it again, with the same key, after the claim's lease."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from services.journal import (
    Fill,
    IndexKind,
    PayoutState,
    Withdrawal,
    list_index,
    slot_from_json,
    slot_key,
    withdrawal_key,
)
from services.store import DocumentStore, NotFound, StoreError

from ._clock import wall_ms
from ._market import PriceBoard

AIM_S = 4.0
WATCH_MS = 100  # how long after a campaign becomes affordable its purchase may be finishing
LOOK_EVERY_S = 0.0005


class Sights:
    def __init__(self, store: DocumentStore, board: PriceBoard, campaigns: Sequence[str],
                 calls: Mapping[str, str]) -> None:
        self.store = store
        self.board = board
        self.campaigns = tuple(campaigns)
        self.calls = calls  # user -> the purchase process its Buy call in flight went to
        self._paid: set[str] = set()  # withdrawals seen paid: never claimed again

    async def aim(self, target: str) -> str:
        """Wait for the moment to strike ``target``; what the strike will interrupt."""
        deadline = time.monotonic() + AIM_S
        while time.monotonic() < deadline:
            now = wall_ms()
            next_one = self.board.soonest(self.campaigns, now)
            if next_one is None:
                await asyncio.sleep(WATCH_MS / 1000)
                continue
            cid, at = next_one
            await asyncio.sleep((at - now) / 1000)
            try:
                caught = await self._watch(cid, target)
            except StoreError as exc:
                return f"aiming failed: {exc}"
            if caught is not None:
                return caught
        in_flight = sum(1 for t in list(self.calls.values()) if t == target)
        return f"{in_flight} Buy calls in flight"

    async def aim_payout(self, victim: str) -> str:
        """Wait (up to ``AIM_S``) until ``victim``'s payer holds a claim; what it holds."""
        deadline = time.monotonic() + AIM_S
        while time.monotonic() < deadline:
            try:
                held = await self._claimed_by(f"{victim}-")
            except StoreError as exc:
                return f"aiming failed: {exc}"
            if held is not None:
                return f"mid-payout of {held}"
            await asyncio.sleep(WATCH_MS / 1000)
        return "no payout in flight"

    async def _claimed_by(self, payer: str) -> str | None:
        for entry in await list_index(self.store, IndexKind.WITHDRAWALS):
            uid, _, wid = entry.partition(":")
            if entry in self._paid:
                continue
            try:
                w = Withdrawal.from_json((await self.store.get(withdrawal_key(uid, wid))).value)
            except NotFound:
                continue
            if w.state is PayoutState.PAID:
                self._paid.add(entry)
            elif w.state is PayoutState.PAYING and (w.payer or "").startswith(payer):
                return entry
        return None

    async def _watch(self, cid: str, target: str) -> str | None:
        """Poll the slot after the board's head (one read a turn, to strike within a store
        operation or two of the commit) for a fresh fill whose buyer's call went to
        ``target``."""
        n = self.board.head(cid) + 1
        until = time.monotonic() + WATCH_MS / 1000
        while time.monotonic() < until:
            try:
                slot = slot_from_json((await self.store.get(slot_key(cid, n))).value)
            except NotFound:
                await asyncio.sleep(LOOK_EVERY_S)
                continue
            fresh = isinstance(slot, Fill) and slot.bought_at > wall_ms() - WATCH_MS
            if fresh and isinstance(slot, Fill) and self.calls.get(slot.buyer) == target:
                return f"{cid} slot {n} just committed"
            return None
        return None
