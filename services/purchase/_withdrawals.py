"""Money out for a user: ``RequestWithdrawal``, ``GetWithdrawal``, ``ListWithdrawals``,
``GetStatement`` (a mixin of ``PurchaseServicer``). The journal validates before it writes,
so a refused request has written nothing - except that a seller's withdrawal the balance
alone cannot cover first credits their campaigns' sales (as recovery would anyway), and that
credit stands even if the withdrawal is then refused for want of funds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, NamedTuple

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import (
    Interrupted,
    Journal,
    User,
    Withdrawal,
    WithdrawalRequested,
)

from . import _messages as msg
from ._errors import refuse, refuse_withdrawal
from ._pages import Paging, paging

Context = grpc.aio.ServicerContext[Any, Any]
READ_AT_ONCE = 32
"""How many withdrawals a list reads from the store at once."""


class Found(NamedTuple):
    """A withdrawal read for a list, with its user and id."""

    uid: str
    wid: str
    withdrawal: Withdrawal

    def message(self) -> pb.Withdrawal:
        return msg.withdrawal(self.uid, self.wid, self.withdrawal)


async def read_withdrawals(journal: Journal, ids: Iterable[tuple[str, str]], context: Context
                           ) -> list[Found]:
    """The withdrawals ``ids`` names (user, withdrawal id), read a batch at a time; an index
    entry whose withdrawal never committed is left out."""
    wanted, found = list(ids), []
    for start in range(0, len(wanted), READ_AT_ONCE):
        batch = wanted[start:start + READ_AT_ONCE]
        read = await asyncio.gather(*(journal.get_withdrawal(uid, wid) for uid, wid in batch))
        for (uid, wid), outcome in zip(batch, read, strict=True):
            if isinstance(outcome, Interrupted):
                await refuse(context, outcome)
            if isinstance(outcome, Withdrawal):
                found.append(Found(uid, wid, outcome))
    return found


async def withdrawal_of(journal: Journal, uid: str, wid: str, context: Context) -> Withdrawal:
    """Withdrawal ``wid`` of ``uid``; NOT_FOUND, INVALID_ARGUMENT or UNAVAILABLE otherwise."""
    found = await journal.get_withdrawal(uid, wid)
    if not isinstance(found, Withdrawal):
        await refuse(context, found)
    return found


async def page_of(scope: str, shape: tuple[type[int] | type[str], ...], page_size: int,
                  page_token: str, context: Context) -> Paging:
    """The page a list request asks for; INVALID_ARGUMENT for a bad size or token."""
    asked = paging(scope, shape, page_size, page_token)
    if not isinstance(asked, Paging):
        await refuse(context, asked)
    return asked


class WithdrawalServicer:
    """The user's money-out methods of ``PurchaseService``."""

    journal: Journal

    async def RequestWithdrawal(self, request: pb.RequestWithdrawalRequest, context: Context
                                ) -> pb.RequestWithdrawalResponse:
        r = request
        # Short of funds, the journal credits the sales of the user's campaigns first.
        outcome = await self.journal.withdraw(r.user_id, r.withdrawal_id, r.amount,
                                              r.destination)
        if not isinstance(outcome, WithdrawalRequested):
            await refuse_withdrawal(context, outcome)
        found = await withdrawal_of(self.journal, r.user_id, r.withdrawal_id, context)
        response = pb.RequestWithdrawalResponse(
            withdrawal=msg.withdrawal(r.user_id, r.withdrawal_id, found), replay=outcome.replay)
        if outcome.balance is not None:
            response.balance = outcome.balance
        return response

    async def GetWithdrawal(self, request: pb.GetWithdrawalRequest, context: Context
                            ) -> pb.Withdrawal:
        uid, wid = request.user_id, request.withdrawal_id
        return msg.withdrawal(uid, wid, await withdrawal_of(self.journal, uid, wid, context))

    async def ListWithdrawals(self, request: pb.ListWithdrawalsRequest, context: Context
                              ) -> pb.ListWithdrawalsResponse:
        uid = request.user_id
        asked = await page_of("withdrawals", (int, str), request.page_size,
                              request.page_token, context)
        await self._account(uid, context)
        ids = await self.journal.withdrawals(uid)
        if not isinstance(ids, list):
            await refuse(context, ids)
        found = await read_withdrawals(self.journal, ((uid, wid) for wid in ids), context)
        chosen, token = asked.page(found, lambda f: (f.withdrawal.requested_at, f.wid),
                                   newest_first=True)
        return pb.ListWithdrawalsResponse(withdrawals=[f.message() for f in chosen],
                                          next_page_token=token)

    async def GetStatement(self, request: pb.GetStatementRequest, context: Context
                           ) -> pb.Statement:
        uid = request.user_id
        asked = await page_of("statement", (int, str, str), request.page_size,
                              request.page_token, context)
        before = None if asked.after is None else (
            int(asked.after[0]), str(asked.after[1]), str(asked.after[2]))
        entries = await self.journal.statement(uid, before, asked.size + 1)
        if not isinstance(entries, list):
            await refuse(context, entries)
        user = await self._account(uid, context)
        chosen, token = asked.page(entries, lambda e: e.order, newest_first=True)
        return pb.Statement(entries=[msg.statement_entry(e) for e in chosen],
                            next_page_token=token, balance=user.balance)

    async def _account(self, uid: str, context: Context) -> User:
        found = await self.journal.get_account(uid)
        if not isinstance(found, User):
            await refuse(context, found)
        return found
