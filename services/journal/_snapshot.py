"""What the audit judges: every document parsed (``Snapshot``), and what it finds broken
(``Violation``, numbered as docs/protocol.md numbers the invariants)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.store import Json

from ._documents import Campaign, DepositRecord, Receipt, Slot, User, slot_from_json
from ._money_out import CreditRecord, RefundRecord, Withdrawal
from ._purchases import PurchasePage


@dataclass(frozen=True, slots=True)
class Violation:
    """Invariant ``invariant`` (docs/protocol.md's number) broken; ``keys`` are the documents."""

    invariant: int
    message: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"invariant {self.invariant}: {self.message} [{', '.join(self.keys)}]"


@dataclass
class Snapshot:
    users: dict[str, User] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    slots: dict[tuple[str, int], Slot] = field(default_factory=dict)
    receipts: dict[tuple[str, int], Receipt] = field(default_factory=dict)
    deposits: dict[tuple[str, str], DepositRecord] = field(default_factory=dict)
    credits: dict[tuple[str, int], CreditRecord] = field(default_factory=dict)
    withdrawals: dict[tuple[str, str], Withdrawal] = field(default_factory=dict)
    refunds: dict[tuple[str, str], RefundRecord] = field(default_factory=dict)
    purchase_heads: dict[str, PurchasePage] = field(default_factory=dict)
    purchase_pages: dict[tuple[str, int], PurchasePage] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: Iterable[tuple[str, Json]]) -> Snapshot:
        snap = cls()
        for key, value in docs:
            snap.add(key, value)
        return snap

    def add(self, key: str, value: Json) -> None:
        kind, _, rest = key.partition(":")
        if kind == "user":
            self.users[rest] = User.from_json(value)
        elif kind == "campaign":
            self.campaigns[rest] = Campaign.from_json(value)
        elif kind in ("slot", "txn"):
            cid, _, n = rest.partition(":")
            if kind == "slot":
                self.slots[cid, int(n)] = slot_from_json(value)
            else:
                self.receipts[cid, int(n)] = Receipt.from_json(value)
        elif kind == "deposit":
            uid, _, did = rest.partition(":")
            self.deposits[uid, did] = DepositRecord.from_json(value)
        elif kind == "credit":
            cid, _, first = rest.partition(":")
            self.credits[cid, int(first)] = CreditRecord.from_json(value)
        elif kind == "purchases":
            uid, _, page = rest.partition(":")
            if page:
                self.purchase_pages[uid, int(page)] = PurchasePage.from_json(value)
            else:
                self.purchase_heads[uid] = PurchasePage.from_json(value)
        elif kind in ("withdrawal", "refund"):
            uid, _, wid = rest.partition(":")
            if kind == "withdrawal":
                self.withdrawals[uid, wid] = Withdrawal.from_json(value)
            else:
                self.refunds[uid, wid] = RefundRecord.from_json(value)
