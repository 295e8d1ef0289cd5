"""``abc payouts list|pay|reject|retry`` and ``abc ledger``: the operator's side of money out
(an operator token: --token or ABC_TOKEN)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb

from ._calls import Stub, call_options, command, pages
from ._money import MAX_PAGE, describe, positive, state_name, when

STATES = [name.lower() for name, _ in pb.Withdrawal.State.items() if name != "STATE_UNSPECIFIED"]
TERMS = ("balances", "pending", "uncredited", "fees", "withdrawn")
"""What the deposits are in, when the books balance."""


def register(commands: Any, _argv: Sequence[str]) -> None:
    payouts = commands.add_parser(
        "payouts", help="the payout queue: list, pay by hand, reject, retry (operator token)",
        description="Withdrawals and their payouts, for the operator (an operator token). A "
                    "withdrawal moves requested -> paying -> paid; paying -> failed -> requested "
                    "(retry); requested | failed -> rejected -> refunded.")
    actions = payouts.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "list", "withdrawals, oldest request first", _list, _show_list)
    p.add_argument("--state", choices=STATES, help="only those in this state")
    p.add_argument("--limit", type=positive, default=100, metavar="N",
                   help="show at most N (default 100)")

    p = command(actions, "pay", "record a withdrawal paid by hand", _pay,
                lambda r: describe(r),
                description="Record that you paid a withdrawal yourself (the manual rail): a "
                            "requested one is claimed by 'operator' and marked paid, a paying "
                            "one marked paid. Repeating it with the same reference is safe.")
    _ident(p)
    p.add_argument("--reference", required=True, help="the payment's reference in your "
                                                      "records (1 to 256 characters)")

    p = command(actions, "reject", "refuse a withdrawal and refund it", _reject,
                lambda r: f"{describe(r)}\n{r.amount + r.fee} back in the balance",
                description="Refuse a requested or failed withdrawal: its amount and fee go back "
                            "to the user's balance. A paying or paid one cannot be rejected.")
    _ident(p)
    p.add_argument("--reason", required=True, help="why, for the user (1 to 256 characters)")

    p = command(actions, "retry", "try a failed payout again", _retry, lambda r: describe(r),
                description="Put a failed withdrawal back to requested, as the next try (a "
                            "rail sees it under a new idempotency key).")
    _ident(p)

    command(commands, "ledger", "the operator's books, and whether they balance",
            lambda s, a: s.GetLedger(pb.GetLedgerRequest(), **call_options(a)), _show_ledger,
            verdict=lambda r: 0 if r.balanced else 1,
            description="Where every deposited unit is: in balances, in operations still "
                        "finishing, in sales not yet credited to their sellers, in the "
                        "operator's fees, or gone out by withdrawals. Exit 1 if they do not "
                        "add up (reads the whole store: for a quiet moment).")


def _ident(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", metavar="USER")
    parser.add_argument("withdrawal_id", metavar="WITHDRAWAL_ID")


def _list(stub: Stub, a: argparse.Namespace) -> Message:
    """Pages of the queue until --limit withdrawals or the last page."""
    state = pb.Withdrawal.STATE_UNSPECIFIED
    if a.state:
        state = pb.Withdrawal.State.Value(a.state.upper())
    withdrawals, token, _ = pages(
        lambda size, token: stub.ListPayouts(pb.ListPayoutsRequest(
            state=state, page_size=size, page_token=token), **call_options(a)),
        lambda page: page.withdrawals, a.limit, MAX_PAGE)
    return pb.ListPayoutsResponse(withdrawals=withdrawals, next_page_token=token)


def _show_list(r: pb.ListPayoutsResponse) -> str:
    if not r.withdrawals:
        return "no withdrawals"
    lines = [f"{when(w.requested_at_ms)}  {describe(w)}" for w in r.withdrawals]
    if r.next_page_token:
        lines.append(f"... more (showing the oldest {len(r.withdrawals)}; see --limit)")
    return "\n".join(lines)


def _pay(stub: Stub, a: argparse.Namespace) -> Message:
    return stub.MarkPaid(pb.MarkPaidRequest(user_id=a.user, withdrawal_id=a.withdrawal_id,
                                            reference=a.reference), **call_options(a))


def _reject(stub: Stub, a: argparse.Namespace) -> Message:
    return stub.Reject(pb.RejectRequest(user_id=a.user, withdrawal_id=a.withdrawal_id,
                                        reason=a.reason), **call_options(a))


def _retry(stub: Stub, a: argparse.Namespace) -> Message:
    return stub.Retry(pb.RetryRequest(user_id=a.user, withdrawal_id=a.withdrawal_id),
                      **call_options(a))


def _show_ledger(r: pb.Ledger) -> str:
    rows = [("deposits", r.deposits, ""),
            ("balances", r.balances, "every account's balance now"),
            ("pending", r.pending, "committed operations still finishing"),
            ("uncredited receipts", r.uncredited, "sales not yet credited to their sellers"),
            ("fees earned", r.fees, "the operator's fees on credited sales"),
            ("withdrawn", r.withdrawn, "withdrawals less their refunds")]
    lines = [f"{name:<22}{value:>18}" + (f"  {note}" if note else "")
             for name, value, note in rows]
    lines.append("withdrawals by state (count, total):" if r.withdrawals else "withdrawals: none")
    lines += [f"  {state_name(t.state):<20}{t.count:>8} {t.total:>18}" for t in r.withdrawals]
    lines.append(f"{'credited to sellers':<22}{r.credited:>18}  (inside balances)")
    lines.append(f"{'refunded':<22}{r.refunded:>18}  (inside balances)")
    values = " + ".join(str(getattr(r, term)) for term in TERMS)
    if r.balanced:
        lines.append(f"balanced: deposits = {' + '.join(TERMS)}: {r.deposits} = {values} "
                     f"(difference 0)")
    else:
        lines.append(f"NOT BALANCED by {r.difference}: deposits {r.deposits} != "
                     f"{' + '.join(TERMS)} = {values}")
    return "\n".join(lines)
