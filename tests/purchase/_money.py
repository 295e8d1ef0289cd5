"""What the money-out tests share: requests in one line, the WithdrawalRejection of a refused
call, walking a list's pages, and moving a payout the way a payer would (through the
journal: no payer runs in these tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import Journal, PayoutState, Withdrawal

from ._support import detail_of

State = pb.Withdrawal.State
DESTINATION = "DE89 3704 0044 0532 0130 00"
MAX_PAGES = 100


def request(uid: str = "alice", wid: str = "w1", amount: int = 100,
            destination: str = DESTINATION) -> pb.RequestWithdrawalRequest:
    return pb.RequestWithdrawalRequest(user_id=uid, withdrawal_id=wid, amount=amount,
                                       destination=destination)



def withdrawal_rejection_of(exc: grpc.aio.AioRpcError) -> pb.WithdrawalRejection:
    """The WithdrawalRejection in the call's rich status."""
    return detail_of(exc, pb.WithdrawalRejection)


class Paged(Protocol):
    next_page_token: str


R = TypeVar("R", bound=Paged)


async def walk(call: Callable[[str], Awaitable[R]]) -> list[R]:
    """Every page ``call(page_token)`` gives, from the first to the one without a next token."""
    pages: list[R] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await call(token)
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages
    raise AssertionError(f"more than {MAX_PAGES} pages")


async def claim(journal: Journal, uid: str, wid: str, payer: str = "payer-0") -> Withdrawal:
    """``uid``'s withdrawal ``wid`` claimed by ``payer`` (now paying), as a payer does."""
    moved = await journal.move_payout(uid, wid, PayoutState.PAYING, payer=payer,
                                      claimed_at=journal.now())
    assert isinstance(moved, Withdrawal), moved
    return moved


async def refused_by_rail(journal: Journal, uid: str, wid: str) -> Withdrawal:
    """Claimed, then refused by the rail: failed."""
    claimed = await claim(journal, uid, wid)
    moved = await journal.move_payout(uid, wid, PayoutState.FAILED, of_try=claimed.tries,
                                      reason="the bank refused it")
    assert isinstance(moved, Withdrawal), moved
    return moved


def fields(message: Any, *names: str) -> tuple[Any, ...]:
    return tuple(getattr(message, name) for name in names)
