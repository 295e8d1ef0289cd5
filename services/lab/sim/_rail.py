"""A simulated payout rail, idempotent by key as a real payment system's API is: the first
definitive answer for a key (paid, or refused) is final, and every later request with that key
gets it again. A request may time out before any answer (nothing decided), or after it (the
reply lost). The rail is outside the store, so what it paid is checked against the store at
the end."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from services.journal import PayoutState, Snapshot, Violation, idempotency_key_of, withdrawal_key


class Answer(enum.Enum):
    PAID = "paid"
    REFUSED = "refused"
    TIMEOUT = "timeout"  # in doubt: paid or not, the caller can't tell


@dataclass
class SimRail:
    rng: random.Random
    faulty: bool = True
    payments: dict[str, str] = field(default_factory=dict)  # key -> reference: paid once
    refusals: set[str] = field(default_factory=set)  # keys refused: refused for good
    deliveries: dict[str, int] = field(default_factory=dict)  # requests seen per key

    def pay(self, key: str) -> tuple[Answer, str | None]:
        """One request for ``key``: the answer and, when paid, the payment's reference."""
        self.deliveries[key] = self.deliveries.get(key, 0) + 1
        if key not in self.payments and key not in self.refusals:
            roll = self.rng.random() if self.faulty else 1.0
            if roll < 0.1:
                return Answer.TIMEOUT, None  # timed out before anything was decided
            if roll < 0.25:
                self.refusals.add(key)
            else:
                self.payments[key] = f"ref-{len(self.payments) + 1}"
        if self.faulty and self.rng.random() < 0.1:
            return Answer.TIMEOUT, None  # decided, but the reply was lost
        if key in self.refusals:
            return Answer.REFUSED, None
        return Answer.PAID, self.payments[key]

    def check(self, snap: Snapshot) -> list[Violation]:
        """At quiescence: every payment the rail made is one withdrawal the store has as paid,
        and every paid withdrawal was paid by the rail (with its reference)."""
        found = []
        paid_keys = set(self.payments)
        for (uid, wid), withdrawal in snap.withdrawals.items():
            keys = {idempotency_key_of(uid, wid, n) for n in range(1, withdrawal.tries + 1)}
            paid_keys -= keys
            paid_by = [self.payments[k] for k in sorted(keys) if k in self.payments]
            if len(paid_by) > 1:
                found.append(Violation(9, f"the rail paid it {len(paid_by)} times",
                                       (withdrawal_key(uid, wid),)))
            paid = paid_by[0] if paid_by else None
            if withdrawal.state is PayoutState.PAID and withdrawal.reference != paid:
                found.append(Violation(9, f"paid with reference {withdrawal.reference}, the rail "
                                          f"paid {paid}", (withdrawal_key(uid, wid),)))
            if paid is not None and withdrawal.state is not PayoutState.PAID:
                found.append(Violation(9, f"the rail paid it, the store says "
                                          f"{withdrawal.state.value}", (withdrawal_key(uid, wid),)))
        if paid_keys:
            found.append(Violation(9, f"the rail paid keys of no withdrawal: {sorted(paid_keys)}",
                                   ()))
        return found
