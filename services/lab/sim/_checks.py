"""The invariants checked after every write the simulated store applies.

The always-true invariants of docs/protocol.md on the whole state (``check_invariants``), plus
the ones that need history rather than a snapshot: a slot, once written, never changes (1); a
campaign's head never moves backwards (4), nor its credited hint (8); a withdrawal's payout
moves only as the state machine allows (9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.journal import MOVES, PayoutState, Snapshot, Violation, check_invariants

from ._scheduler import Op


class InvariantBroken(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(str(v) for v in violations))
        self.violations = violations


@dataclass
class InvariantChecker:
    snapshot: Snapshot = field(default_factory=Snapshot)
    heads: dict[str, int] = field(default_factory=dict)
    credited: dict[str, int] = field(default_factory=dict)
    payouts: dict[str, PayoutState] = field(default_factory=dict)
    checks: int = 0

    def __call__(self, op: Op) -> None:
        found = self._history(op)
        if op.value is not None:
            self.snapshot.add(op.key, op.value)
        found += check_invariants(self.snapshot)
        self.checks += 1
        if found:
            raise InvariantBroken(found)

    def _history(self, op: Op) -> list[Violation]:
        kind, _, rest = op.key.partition(":")
        if kind == "slot" and op.kind != "insert":
            return [Violation(1, f"a written slot was overwritten ({op.kind})", (op.key,))]
        if kind == "campaign" and op.value is not None:
            return (_forward_only(self.heads, rest, op.value["head"], 4, "head", op.key)
                    + _forward_only(self.credited, rest, op.value.get("credited", 0), 8,
                                    "credited", op.key))
        if kind == "withdrawal" and op.value is not None:
            state = PayoutState(op.value["state"])
            before = self.payouts.get(rest)
            self.payouts[rest] = state
            if before is not None and state is not before and state not in MOVES[before]:
                return [Violation(9, f"payout moved {before.value} -> {state.value}", (op.key,))]
        return []


def _forward_only(seen: dict[str, int], cid: str, value: int, invariant: int, name: str,
                  key: str) -> list[Violation]:
    before = seen.get(cid, 0)
    seen[cid] = max(before, value)
    if value < before:
        return [Violation(invariant, f"{name} moved backwards from {before} to {value}", (key,))]
    return []
