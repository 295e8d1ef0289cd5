"""Selling: open a campaign (with an ad size or not), my campaigns, my earnings (the credits
in my statement: each run of my campaigns' sales credited to me, less the operator's fee),
withdraw, and my withdrawals.

The withdraw form carries a withdrawal id made when the page is drawn, so sending the same
form twice (a double click, a retry after a timeout) is one withdrawal: purchase answers the
second as a replay (README, "Money out")."""

from __future__ import annotations

import uuid

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2

from ._views import (
    FormError,
    Refused,
    answered,
    backends,
    current_user,
    form_failed,
    form_handler,
    page,
    redirect,
    signed_in,
    text_field,
    together,
    whole_number,
)

EARNINGS_PAGES = 5  # statement pages (of 100 entries) read for the earnings
SLOT_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
CAMPAIGN_FIELDS = ("campaign_id", "min_price", "slot_length", "slot_unit", "ad_width",
                   "ad_height")
WITHDRAW_FIELDS = ("amount", "destination")
STATES = {number: name.lower() for name, number in pb.Withdrawal.State.items()}


@signed_in
async def selling(request: Request) -> Response:
    return await render_selling(request)


async def _credits(request: Request, user: str) -> tuple[list[pb.StatementEntry], bool]:
    """The credit entries of the user's statement (newest first), and whether there were
    more pages than were read."""
    found: list[pb.StatementEntry] = []
    token = ""
    for _ in range(EARNINGS_PAGES):
        statement: pb.Statement = await answered(backends(request).purchase.GetStatement(
            pb.GetStatementRequest(user_id=user, page_size=100, page_token=token)))
        found += [e for e in statement.entries if e.kind == "credit"]
        token = statement.next_page_token
        if not token:
            return found, False
    return found, True


async def render_selling(request: Request, error: str | None = None, status: int = 200,
                         form_name: str = "", draft: dict[str, str] | None = None) -> Response:
    """The selling page; ``error`` shown on the form ``form_name`` (campaign or withdraw)
    with what was typed (``draft``)."""
    user = current_user(request)
    stub = backends(request).purchase
    mine: pb.ListCampaignsResponse
    withdrawals: pb.ListWithdrawalsResponse
    account: pb.Account
    mine, (credits, partial), withdrawals, account = await together(
        stub.ListCampaigns(pb.ListCampaignsRequest(owner_id=user, page_size=100)),
        _credits(request, user),
        stub.ListWithdrawals(pb.ListWithdrawalsRequest(user_id=user, page_size=20)),
        stub.GetAccount(pb.GetAccountRequest(user_id=user)))
    return page(request, "selling.html", status, campaigns=list(mine.campaigns),
                credits=credits, earned=sum(e.amount for e in credits), partial=partial,
                withdrawals=list(withdrawals.withdrawals), states=STATES, balance=account.balance,
                withdrawal_id=uuid.uuid4().hex, error=error, form_name=form_name,
                draft={**dict.fromkeys(CAMPAIGN_FIELDS + WITHDRAW_FIELDS, ""), **(draft or {})},
                units=list(SLOT_UNITS))


@form_handler
@signed_in
async def create_campaign(request: Request, form: FormData) -> Response:
    user = current_user(request)
    draft = {name: text_field(form, name) for name in CAMPAIGN_FIELDS}
    try:
        unit = SLOT_UNITS.get(draft["slot_unit"])
        if unit is None:
            raise FormError("Slot length: choose a unit.")
        created: types_pb2.Campaign = await answered(backends(request).purchase.CreateCampaign(
            pb.CreateCampaignRequest(
                campaign_id=draft["campaign_id"], owner_id=user,
                min_price=whole_number(form, "min_price", "Minimum price"),
                slot_seconds=whole_number(form, "slot_length", "Slot length") * unit,
                ad_width=whole_number(form, "ad_width", "Ad width", 0),
                ad_height=whole_number(form, "ad_height", "Ad height", 0))))
    except (FormError, Refused) as failure:
        return await form_failed(request, failure, lambda message, status: render_selling(
            request, message, status, "campaign", draft))
    return redirect(f"/campaigns/{created.campaign_id}",
                    f"Your campaign {created.campaign_id} is open.", request)


@form_handler
@signed_in
async def withdraw(request: Request, form: FormData) -> Response:
    user = current_user(request)
    draft = {name: text_field(form, name) for name in WITHDRAW_FIELDS}
    try:
        done: pb.RequestWithdrawalResponse = await answered(
            backends(request).purchase.RequestWithdrawal(pb.RequestWithdrawalRequest(
                user_id=user, withdrawal_id=text_field(form, "withdrawal_id"),
                amount=whole_number(form, "amount", "Amount"),
                destination=draft["destination"])))
    except (FormError, Refused) as failure:
        return await form_failed(request, failure, lambda message, status: render_selling(
            request, message, status, "withdraw", draft))
    w = done.withdrawal
    said = "was already requested" if done.replay else "is requested"
    return redirect("/selling#withdrawals", f"Your withdrawal of {w.amount} (fee {w.fee}) "
                    f"{said}.", request)
