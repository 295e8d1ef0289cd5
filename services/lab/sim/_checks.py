"""The invariants checked after every write the simulated store applies.

The always-true invariants of docs/protocol.md on the whole state (``check_invariants``), plus the
two that need history rather than a snapshot: a slot, once written, never changes (1), and a
campaign's head never moves backwards (4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.journal import Snapshot, Violation, check_invariants

from ._scheduler import Op


class InvariantBroken(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(str(v) for v in violations))
        self.violations = violations


@dataclass
class InvariantChecker:
    snapshot: Snapshot = field(default_factory=Snapshot)
    heads: dict[str, int] = field(default_factory=dict)
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
            head = op.value["head"]
            before = self.heads.get(rest, 0)
            self.heads[rest] = max(before, head)
            if head < before:
                return [Violation(4, f"head moved backwards from {before} to {head}", (op.key,))]
        return []
