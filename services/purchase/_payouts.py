"""Money out for the operator (operator token only, ``OPERATOR_ONLY``): ``ListPayouts``,
``MarkPaid``, ``Reject``, ``Retry``, ``GetLedger`` (a mixin of ``PurchaseServicer``). Every
move is the journal's payout state machine; a refused one has written nothing."""

from __future__ import annotations

import unicodedata
from typing import Any

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import (
    Books,
    InvalidInput,
    Journal,
    PayoutState,
    Refunded,
    Withdrawal,
    WrongState,
)

from . import _messages as msg
from ._errors import refuse, refuse_withdrawal
from ._withdrawals import page_of, read_withdrawals, withdrawal_of

Context = grpc.aio.ServicerContext[Any, Any]
OPERATOR = "operator"
"""The payer a withdrawal the operator paid by hand is claimed by."""
MAX_NOTE = 256  # characters of a reference or a reason


def note_problem(field: str, text: str) -> InvalidInput | None:
    """A reference or reason must be 1 to MAX_NOTE characters, none of them control ones."""
    if not 1 <= len(text) <= MAX_NOTE or any(unicodedata.category(c).startswith("C")
                                             for c in text):
        return InvalidInput(field, f"must be 1 to {MAX_NOTE} characters, no control "
                                   "characters")
    return None


class PayoutServicer:
    """The operator's money-out methods of ``PurchaseService``."""

    journal: Journal

    async def ListPayouts(self, request: pb.ListPayoutsRequest, context: Context
                          ) -> pb.ListPayoutsResponse:
        state = msg.payout_state(request.state)
        if state is None and request.state != msg.State.STATE_UNSPECIFIED:
            await refuse(context, InvalidInput("state", f"no state {request.state}"))
        asked = await page_of("payouts", (int, str, str), request.page_size,
                              request.page_token, context)
        ids = await self.journal.all_withdrawals()
        if not isinstance(ids, list):
            await refuse(context, ids)
        found = [f for f in await read_withdrawals(self.journal, ids, context)
                 if state is None or f.withdrawal.state is state]
        chosen, token = asked.page(found, lambda f: (f.withdrawal.requested_at, f.uid, f.wid),
                                   newest_first=False)
        return pb.ListPayoutsResponse(withdrawals=[f.message() for f in chosen],
                                      next_page_token=token)

    async def MarkPaid(self, request: pb.MarkPaidRequest, context: Context) -> pb.Withdrawal:
        uid, wid, reference = request.user_id, request.withdrawal_id, request.reference
        problem = note_problem("reference", reference)
        if problem is not None:
            await refuse(context, problem)
        current = await withdrawal_of(self.journal, uid, wid, context)
        if _paid_with(current, reference):
            return msg.withdrawal(uid, wid, current)  # a repeat: done already
        if current.state is PayoutState.REQUESTED:  # the operator claims it, as a payer would
            current = await self._moved(context, uid, wid, PayoutState.PAYING, current.tries,
                                        payer=OPERATOR, claimed_at=self.journal.now())
        if current.state is not PayoutState.PAYING or current.payer != OPERATOR:
            # Paying through the rail (a payer's claim) is the rail's to finish: marking it
            # paid by hand too could pay it twice.
            await refuse_withdrawal(context, WrongState(
                wid, _shown(current), (PayoutState.REQUESTED.value,
                                       f"{PayoutState.PAYING.value} by {OPERATOR}")))
        paid = await self._moved(context, uid, wid, PayoutState.PAID, current.tries,
                                 reference=reference)
        if not _paid_with(paid, reference):  # paid meanwhile, under another reference
            await refuse_withdrawal(context, WrongState(
                wid, _shown(paid), (PayoutState.REQUESTED.value, PayoutState.PAYING.value)))
        return msg.withdrawal(uid, wid, paid)

    async def Reject(self, request: pb.RejectRequest, context: Context) -> pb.Withdrawal:
        uid, wid, reason = request.user_id, request.withdrawal_id, request.reason
        problem = note_problem("reason", reason)
        if problem is not None:
            await refuse(context, problem)
        current = await withdrawal_of(self.journal, uid, wid, context)
        if current.state is PayoutState.REFUNDED and current.reason == reason:
            return msg.withdrawal(uid, wid, current)  # a repeat: done already
        outcome = await self.journal.reject(uid, wid, reason)
        if not isinstance(outcome, Refunded):
            await refuse_withdrawal(context, outcome)
        return msg.withdrawal(uid, wid, await withdrawal_of(self.journal, uid, wid, context))

    async def Retry(self, request: pb.RetryRequest, context: Context) -> pb.Withdrawal:
        uid, wid = request.user_id, request.withdrawal_id
        await withdrawal_of(self.journal, uid, wid, context)  # checks the ids; NOT_FOUND
        return msg.withdrawal(uid, wid, await self._moved(context, uid, wid,
                                                          PayoutState.REQUESTED))

    async def GetLedger(self, request: pb.GetLedgerRequest, context: Context) -> pb.Ledger:
        books = await self.journal.books()
        if not isinstance(books, Books):
            await refuse(context, books)
        return msg.ledger(books)

    async def _moved(self, context: Context, uid: str, wid: str, to: PayoutState,
                     of_try: int | None = None, **changes: str | int | None) -> Withdrawal:
        moved = await self.journal.move_payout(uid, wid, to, of_try, **changes)
        if not isinstance(moved, Withdrawal):
            await refuse_withdrawal(context, moved)
        return moved


def _paid_with(withdrawal: Withdrawal, reference: str) -> bool:
    return withdrawal.state is PayoutState.PAID and withdrawal.reference == reference


def _shown(withdrawal: Withdrawal) -> str:
    if withdrawal.state is PayoutState.PAID:
        return f"paid (reference {withdrawal.reference!r})"
    return str(withdrawal.state.value)
