"""The payout rail port: how a withdrawal's money reaches its destination outside Abc.

A payer hands the rail a ``PayoutOrder`` and gets one of three answers:

- ``Paid``: the payment system took it; its ``reference`` goes into the withdrawal (paid);
- ``Refused``: it will not pay this one; the ``reason`` goes into the withdrawal (failed), for
  the operator to retry or reject;
- ``NoAnswer``: nobody knows (a timeout, a dropped connection, a 5xx): the payment may or may
  not have happened. The withdrawal stays ``paying`` and is asked about again later with the
  same idempotency key, so the payment system pays it at most once. Never a refusal.

The payment system must treat a key's first definitive answer (paid, or refused) as final and
answer every later request with that key the same way (docs/protocol.md, "The payout").

A rail never raises for what the payment system or the network does: every such fault is
``NoAnswer``. ``automatic`` says whether it pays at all: the ``manual`` rail does not (the
operator pays out of band and moves the withdrawal himself), so a payer leaves it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.store import Json


@dataclass(frozen=True, slots=True)
class PayoutOrder:
    """Pay ``amount`` (minor units; ``fee`` is the operator's, already kept) of user
    ``user_id``'s withdrawal ``withdrawal_id`` to ``destination``. ``idempotency_key`` names
    the try at the rail (the journal's ``idempotency_key_of``: ``<uid>:<wid>`` for the first
    try, ``<uid>:<wid>:<n>`` after the operator retried a refused one); every call about one
    try carries the same key, whoever makes it."""

    user_id: str
    withdrawal_id: str
    amount: int
    fee: int
    destination: str
    idempotency_key: str

    def to_json(self) -> Json:
        return {"user_id": self.user_id, "withdrawal_id": self.withdrawal_id,
                "amount": self.amount, "fee": self.fee, "destination": self.destination}


@dataclass(frozen=True, slots=True)
class Paid:
    reference: str


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str


@dataclass(frozen=True, slots=True)
class NoAnswer:
    detail: str


RailAnswer = Paid | Refused | NoAnswer


class PayoutRail(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def automatic(self) -> bool:
        """Whether a payer should call it: False for a rail the operator works by hand."""
        ...

    async def pay(self, order: PayoutOrder) -> RailAnswer:
        """Ask for ``order`` to be paid; idempotent by ``order.idempotency_key``."""
        ...


class ManualRail:
    """The embedded default: nothing pays automatically. Withdrawals wait in ``requested``
    for the operator, who pays them by other means and marks them paid, or rejects them."""

    name = "manual"
    automatic = False

    async def pay(self, order: PayoutOrder) -> RailAnswer:
        return NoAnswer(f"{order.idempotency_key}: the manual rail pays nothing; the operator "
                        "settles it")
