"""``abc withdraw``, ``abc statement`` and ``abc purchases``: a user's money, through the
purchase service (a gateway token will do). Amounts are whole minor units."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb

from ._calls import Stub, call_options, command, pages

MAX_PAGE = 500  # the service's largest page


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = command(commands, "withdraw", "take money out of an account", _withdraw, _show_request,
                description="Request a withdrawal: AMOUNT (plus the operator's flat fee) leaves "
                            "the balance now and is paid out to --to. WITHDRAWAL_ID is the "
                            "request's idempotency key: repeating the command with it is safe "
                            "(nothing changes twice); reusing it with another amount or "
                            "destination is refused.")
    p.add_argument("user", metavar="USER")
    p.add_argument("withdrawal_id", metavar="WITHDRAWAL_ID", help="chosen by you, unique per "
                                                                  "user")
    p.add_argument("amount", type=int, metavar="AMOUNT", help="minor units (a whole number)")
    p.add_argument("--to", required=True, metavar="DESTINATION", dest="destination",
                   help="where the payout goes: an account number, an IBAN, ... (1 to 256 "
                        "characters)")

    p = command(commands, "statement", "a user's deposits, purchases, credits, withdrawals "
                "and refunds", _statement, _show_statement,
                description="A user's statement, newest first, and the balance now: deposits, "
                            "purchases, the shares of their campaigns' sales credited to them, "
                            "withdrawals (with their payout state) and refunds. A purchase "
                            "shows once its sale is credited to the seller (about a second "
                            "after it; the balance has it at once).")
    p.add_argument("user", metavar="USER")
    p.add_argument("--limit", type=positive, default=50, metavar="N",
                   help="show at most N entries (default 50)")

    p = command(commands, "purchases", "the slots a user bought", _purchases, _show_purchases,
                description="A user's purchases, newest first: each slot, its price, the ad "
                            "it shows and when. A purchase is listed once its sale is "
                            "credited to the seller (about a second after it).")
    p.add_argument("user", metavar="USER")
    p.add_argument("--limit", type=positive, default=50, metavar="N",
                   help="show at most N purchases (default 50)")


def positive(text: str) -> int:
    """An argparse type: a whole number from 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def when(ms: int) -> str:
    """A time of the API (ms since the epoch) for people, in UTC; "-" for none."""
    if ms <= 0:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def state_name(state: pb.Withdrawal.State.ValueType) -> str:
    return pb.Withdrawal.State.Name(state).lower()


def describe(w: pb.Withdrawal) -> str:
    """One line about a withdrawal: who, how much, where, and where its payout is."""
    line = (f"withdrawal {w.withdrawal_id} of {w.user_id}: {w.amount} (+ fee {w.fee}) to "
            f"{w.destination!r}, {state_name(w.state)}")
    if w.tries > 1:
        line += f" (try {w.tries})"
    if w.reference:
        line += f", reference {w.reference!r}"
    if w.payer and w.state in (pb.Withdrawal.PAYING, pb.Withdrawal.PAID):
        line += f", by {w.payer}"
    if w.reason and w.state != pb.Withdrawal.PAID:
        line += f"; reason: {w.reason}"
    return line


def _withdraw(stub: Stub, a: argparse.Namespace) -> Message:
    return stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
        user_id=a.user, withdrawal_id=a.withdrawal_id, amount=a.amount,
        destination=a.destination), **call_options(a))


def _show_request(r: pb.RequestWithdrawalResponse) -> str:
    line = describe(r.withdrawal)
    if r.replay:
        return f"{line}\nalready requested with these fields: nothing changed"
    balance = f"balance {r.balance}" if r.HasField("balance") else "balance settles shortly"
    return f"{line}; {balance}"


def _statement(stub: Stub, a: argparse.Namespace) -> Message:
    """Pages of the statement until --limit entries or the last page."""
    entries, token, last = pages(
        lambda size, token: stub.GetStatement(pb.GetStatementRequest(
            user_id=a.user, page_size=size, page_token=token), **call_options(a)),
        lambda page: page.entries, a.limit, MAX_PAGE)
    return pb.Statement(entries=entries, next_page_token=token,
                        balance=last.balance if last is not None else 0)


def _show_statement(r: pb.Statement) -> str:
    lines = [f"balance {r.balance}"]
    if not r.entries:
        lines.append("no entries yet")
    for e in r.entries:
        detail = f"  {e.detail}" if e.detail else ""
        lines.append(f"  {when(e.at_ms):<23}  {e.kind:<10}  {e.ident:<20} {e.amount:>+12}"
                     f"{detail}")
    return "\n".join(lines + _more(r.next_page_token, len(r.entries)))


def _purchases(stub: Stub, a: argparse.Namespace) -> Message:
    """Pages of the user's purchases until --limit or the last page."""
    purchases, token, _ = pages(
        lambda size, token: stub.ListPurchases(pb.ListPurchasesRequest(
            user_id=a.user, page_size=size, page_token=token), **call_options(a)),
        lambda page: page.purchases, a.limit, MAX_PAGE)
    return pb.ListPurchasesResponse(purchases=purchases, next_page_token=token)


def _show_purchases(r: pb.ListPurchasesResponse) -> str:
    if not r.purchases:
        return "no purchases listed yet"
    lines = []
    for p in r.purchases:
        ad = f"filler {p.filler_id}" if p.filler_id else "no filler"
        lines.append(f"  {when(p.bought_at_ms):<23}  {p.campaign_id}:{p.slot:<8} "
                     f"{p.price:>12}  {ad}, shows {when(p.start_ms)} to {when(p.end_ms)}")
    return "\n".join(lines + _more(r.next_page_token, len(r.purchases)))


def _more(next_page_token: str, shown: int) -> list[str]:
    """The line that says --limit left some out (none when nothing was)."""
    return [f"  ... more (showing the newest {shown}; see --limit)"] if next_page_token else []
