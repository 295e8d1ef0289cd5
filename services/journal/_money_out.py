"""The documents of money out (docs/protocol.md, "Money out"): the locks of the credit,
withdraw and refund ops, their commit records, and the withdrawal with its payout state."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services.store import Json


@dataclass(frozen=True, slots=True)
class CreditLock:
    """The intent of crediting the run of slots ``first``..``last`` of ``campaign`` to its
    owner: ``amount`` is the sum of the run's shares. ``listed``: the run's purchases were
    listed under their buyers before the intent (false in locks written before the lists)."""

    attempt: str
    campaign: str
    first: int
    last: int
    amount: int
    trace: dict[str, str] | None = None
    at: int = 0
    listed: bool = False

    def to_json(self) -> Json:
        return {"op": "credit", "attempt": self.attempt, "campaign": self.campaign,
                "from": self.first, "to": self.last, "amount": self.amount,
                "trace": self.trace, "at": self.at, "listed": self.listed}

    @classmethod
    def from_json(cls, value: Json) -> CreditLock:
        return cls(value["attempt"], value["campaign"], value["from"], value["to"],
                   value["amount"], value.get("trace"), value.get("at", 0),
                   value.get("listed", False))


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """``credit:<cid>:<first>``: the run ``first``..``last`` was credited to ``seller``
    (asked for at ``at``, ms); ``listed``: its purchases are in their buyers' lists."""

    seller: str
    attempt: str
    first: int
    last: int
    amount: int
    at: int = 0
    listed: bool = False

    def to_json(self) -> Json:
        return {"seller": self.seller, "attempt": self.attempt, "from": self.first,
                "to": self.last, "amount": self.amount, "at": self.at, "listed": self.listed}

    @classmethod
    def from_json(cls, value: Json) -> CreditRecord:
        return cls(value["seller"], value["attempt"], value["from"], value["to"],
                   value["amount"], value.get("at", 0), value.get("listed", False))


@dataclass(frozen=True, slots=True)
class WithdrawLock:
    """The intent of withdrawing ``amount`` (plus the operator's ``fee``) to ``destination``
    under the user's withdrawal id ``withdrawal``, requested at ``requested_at``."""

    attempt: str
    withdrawal: str
    amount: int
    fee: int
    destination: str
    requested_at: int
    trace: dict[str, str] | None = None

    def to_json(self) -> Json:
        return {"op": "withdraw", "attempt": self.attempt, "withdrawal": self.withdrawal,
                "amount": self.amount, "fee": self.fee, "destination": self.destination,
                "requested_at": self.requested_at, "trace": self.trace}

    @classmethod
    def from_json(cls, value: Json) -> WithdrawLock:
        return cls(value["attempt"], value["withdrawal"], value["amount"], value["fee"],
                   value["destination"], value["requested_at"], value.get("trace"))

    @property
    def total(self) -> int:
        return self.amount + self.fee


class PayoutState(enum.Enum):
    """A withdrawal's payout, moved only forward and only by CAS:
    requested -> paying -> paid; paying -> failed (the rail refused); failed -> requested
    (the operator retries); requested | failed -> rejected (the operator refuses) -> refunded.
    """

    REQUESTED = "requested"
    PAYING = "paying"
    PAID = "paid"
    FAILED = "failed"
    REJECTED = "rejected"
    REFUNDED = "refunded"


MOVES: dict[PayoutState, frozenset[PayoutState]] = {
    PayoutState.REQUESTED: frozenset({PayoutState.PAYING, PayoutState.REJECTED}),
    PayoutState.PAYING: frozenset({PayoutState.PAID, PayoutState.FAILED}),
    PayoutState.FAILED: frozenset({PayoutState.REQUESTED, PayoutState.REJECTED}),
    PayoutState.REJECTED: frozenset({PayoutState.REFUNDED}),
    PayoutState.PAID: frozenset(),
    PayoutState.REFUNDED: frozenset(),
}
"""Every move the payout state machine allows, from each state."""


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """``withdrawal:<uid>:<w>``: the commit record of a withdrawal and its payout state.
    ``reference``: the rail's id of the payment (paid); ``reason``: why it failed or was
    rejected; ``payer``, ``claimed_at``: who claimed it (paying), and when; ``tries``: which
    try at the rail this is (an operator's retry starts the next, under a new rail key)."""

    attempt: str
    amount: int
    fee: int
    destination: str
    requested_at: int
    state: PayoutState = PayoutState.REQUESTED
    updated_at: int = 0
    reference: str | None = None
    reason: str | None = None
    payer: str | None = None
    claimed_at: int | None = None
    tries: int = 1

    @classmethod
    def of(cls, lock: WithdrawLock) -> Withdrawal:
        return cls(lock.attempt, lock.amount, lock.fee, lock.destination, lock.requested_at,
                   updated_at=lock.requested_at)

    def to_json(self) -> Json:
        return {"attempt": self.attempt, "amount": self.amount, "fee": self.fee,
                "destination": self.destination, "requested_at": self.requested_at,
                "state": self.state.value, "updated_at": self.updated_at,
                "reference": self.reference, "reason": self.reason, "payer": self.payer,
                "claimed_at": self.claimed_at, "tries": self.tries}

    @classmethod
    def from_json(cls, value: Json) -> Withdrawal:
        return cls(value["attempt"], value["amount"], value["fee"], value["destination"],
                   value["requested_at"], PayoutState(value["state"]), value["updated_at"],
                   value.get("reference"), value.get("reason"), value.get("payer"),
                   value.get("claimed_at"), value.get("tries", 1))

    @property
    def total(self) -> int:
        """What left the balance: the amount and the fee."""
        return self.amount + self.fee

    def moved(self, state: PayoutState, now: int, **changes: str | int | None) -> Withdrawal:
        tries = self.tries + 1 if state is PayoutState.REQUESTED else self.tries
        return Withdrawal.from_json({**self.to_json(), "state": state.value, "updated_at": now,
                                     "tries": tries, **changes})


def idempotency_key_of(uid: str, wid: str, tries: int = 1) -> str:
    """The idempotency key of a withdrawal's try at the rail: ``<uid>:<w>`` for the first,
    ``<uid>:<w>:<n>`` for the n-th (after the operator retried a refused one). A rail answers
    every request of a key with the key's first definitive answer (paid or refused), so a
    refused key can never pay later; a new try needs a new key."""
    return f"{uid}:{wid}" if tries == 1 else f"{uid}:{wid}:{tries}"


@dataclass(frozen=True, slots=True)
class RefundLock:
    """The intent of refunding a rejected withdrawal: ``amount`` is its amount plus fee."""

    attempt: str
    withdrawal: str
    amount: int
    trace: dict[str, str] | None = None
    at: int = 0

    def to_json(self) -> Json:
        return {"op": "refund", "attempt": self.attempt, "withdrawal": self.withdrawal,
                "amount": self.amount, "trace": self.trace, "at": self.at}

    @classmethod
    def from_json(cls, value: Json) -> RefundLock:
        return cls(value["attempt"], value["withdrawal"], value["amount"], value.get("trace"),
                   value.get("at", 0))


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """``refund:<uid>:<w>``: the rejected withdrawal ``w`` was refunded, by this attempt, at
    ``at`` (ms)."""

    attempt: str
    amount: int
    at: int = 0

    def to_json(self) -> Json:
        return {"attempt": self.attempt, "amount": self.amount, "at": self.at}

    @classmethod
    def from_json(cls, value: Json) -> RefundRecord:
        return cls(value["attempt"], value["amount"], value.get("at", 0))
