"""Posse crediting: the seller's share of each sale reaches their balance without their user
document ever becoming hot (docs/protocol.md, "Money out": credit).

**Cadence.** A replica's check of a campaign reads its head and its ``credited`` hint anyway;
when the hint is behind, the replica runs ``credit`` for that campaign right after the check:
one op that credits the next run of up to ``Policy.credit_batch`` finished slots. Every
campaign is checked every tick by the replica on duty, so a sale is credited at the first tick
after its slot is finished, or at a later tick when that seller was just credited. Measured
(``bench/money.py``, tick 1 s, 3 sellers x 4 campaigns): median about one tick, the tail 5-12
ticks with every replica up (replicas that tick together collide on a seller, and a turn the
pacer keeps for another of the seller's campaigns can leave a tick idle), about 3 s median
and 8-9 s at worst with 2 of 3 dead.

**Rate.** At most one credit op per seller per ``credit_interval_ms`` (default 1000) in each
replica, however many of the seller's campaigns sell, and however fast: so at most N ops a
second on a seller's document across N replicas (the duty rotates between them), each a
few writes covering up to a batch of sales. A seller selling a thousand slots a second is
locked by a credit a few milliseconds a second, not a thousand times; its own ops rarely find
it busy. The interval is counted in tick time (tick number x tick length), so a credit made
late in one tick never blocks the seller at the next. When several of one seller's
campaigns want the same turn, the one whose last turn is oldest goes first, so a hot campaign
can not starve a quiet one of the same seller.

**Reads.** The seller is the campaign's owner, which never changes: read once per campaign
(``get_campaign``) the first time it needs crediting, then kept. A campaign whose credit chain
this replica saw reach the head is not credited again until the head moves, even while its
hint lags (a creditor died before advancing it), so a stale hint costs no op per tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CREDIT_INTERVAL_MS = 1000


@dataclass
class CreditPacer:
    """Who may run a credit op now: one per seller per ``interval_ms`` (tick time), the
    seller's waiting campaigns first. A campaign refused within ``patience_ms`` still waits
    (it is checked again within a few ticks); after that it is forgotten."""

    interval_ms: int = CREDIT_INTERVAL_MS
    patience_ms: int = 4 * CREDIT_INTERVAL_MS
    _last: dict[str, int] = field(default_factory=dict)  # seller -> when its last op started
    _turns: dict[str, int] = field(default_factory=dict)  # campaign -> when it last had one
    _waiting: dict[str, dict[str, int]] = field(default_factory=dict)  # seller -> {cid: since}

    def may_credit(self, seller: str, cid: str, at: int) -> bool:
        """Whether ``cid`` (of ``seller``) may run a credit op at ``at`` (ms, tick time);
        True takes the seller's turn."""
        waiting = self._waiting.setdefault(seller, {})
        for other, since in list(waiting.items()):
            if at - since > self.patience_ms:
                del waiting[other]
        last = self._last.get(seller)
        if (last is not None and at - last < self.interval_ms) or self._others_first(
                waiting, cid):
            waiting[cid] = at
            return False
        self._last[seller] = at
        self._turns[cid] = at
        waiting.pop(cid, None)
        return True

    def returned(self, seller: str, cid: str, at: int) -> None:
        """The turn ``cid`` took at ``at`` found the seller busy (another replica's credit, or
        the seller's own op): nothing was credited, so the seller's next turn need not wait
        out the interval, and ``cid`` waits first in line."""
        if self._last.get(seller) == at:
            del self._last[seller]
        self._waiting.setdefault(seller, {})[cid] = at
        self._turns[cid] = -1

    def _others_first(self, waiting: dict[str, int], cid: str) -> bool:
        mine = self._turns.get(cid, -1)
        return any(self._turns.get(other, -1) < mine for other in waiting if other != cid)
