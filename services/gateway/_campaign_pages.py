"""The campaigns list, a campaign's page and its buy form.

A campaign is read from notify (``GetCampaign``: served from notify's state, so a hot
campaign's page costs the store nothing per viewer), its recent slots from purchase
(``ListSlots``). The campaign page carries what the live script needs to draw the falling
price and add slots as they sell (``templates/campaign.html``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2

from ._ads import Ad, ad_of
from ._live_state import curve_json
from ._views import (
    FormError,
    Refused,
    answered,
    backends,
    current_user,
    form_handler,
    page,
    problem_page,
    redirect,
    signed_in,
    signed_in_user,
    text_field,
    together,
    whole_number,
)

LIST_PAGE = 20
RECENT_SLOTS = 10


@dataclass(frozen=True)
class Listed:
    """A campaign on the list: its summary and the ad showing now (None: nothing)."""

    summary: pb.CampaignSummary
    ad: Ad | None


async def _showing(request: Request, campaign_id: str) -> Ad | None:
    """The ad a campaign shows now; None when nothing shows or notify can't say."""
    try:
        view = await backends(request).notify.GetCampaign(
            types_pb2.GetCampaignRequest(campaign_id=campaign_id))
    except grpc.aio.AioRpcError:
        return None  # the list still shows the campaign and its price
    return ad_of(view.current_filler) if view.HasField("current_filler") else None


async def campaigns(request: Request) -> Response:
    token = request.query_params.get("page", "")
    listed: pb.ListCampaignsResponse = await answered(backends(request).purchase.ListCampaigns(
        pb.ListCampaignsRequest(page_size=LIST_PAGE, page_token=token)))
    ads = await asyncio.gather(*(_showing(request, s.campaign.campaign_id)
                                 for s in listed.campaigns))
    return page(request, "campaigns.html",
                campaigns=[Listed(s, ad) for s, ad in zip(listed.campaigns, ads, strict=True)],
                next_page=listed.next_page_token, first_page=not token)


async def campaign(request: Request) -> Response:
    return await render_campaign(request, request.path_params["campaign_id"])


async def render_campaign(request: Request, campaign_id: str, error: str | None = None,
                          status: int = 200, max_price: int | None = None) -> Response:
    """The campaign's page; with ``error`` (a refused purchase) shown above its buy form. The
    campaign is read from notify, or from purchase when notify is behind the slots listed."""
    stubs, user = backends(request), signed_in_user(request)
    view: types_pb2.CampaignView
    slots: pb.ListSlotsResponse
    view, slots, *mine = await together(
        stubs.notify.GetCampaign(types_pb2.GetCampaignRequest(campaign_id=campaign_id)),
        stubs.purchase.ListSlots(pb.ListSlotsRequest(campaign_id=campaign_id,
                                                     page_size=RECENT_SLOTS)),
        *(() if user is None else (
            stubs.purchase.ListFillers(pb.ListFillersRequest(user_id=user, page_size=100)),
            stubs.purchase.GetAccount(pb.GetAccountRequest(user_id=user)))))
    if slots.slots and slots.slots[0].slot > view.head:
        # notify had not heard of the newest fill yet (right after this person's own buy,
        # say): the page's view is never behind its own list of slots.
        view = await answered(stubs.purchase.GetCampaign(
            types_pb2.GetCampaignRequest(campaign_id=campaign_id)))
    fillers = [ad_of(f) for f in mine[0].fillers] if mine else []
    balance = mine[1].balance if mine else None
    return page(request, "campaign.html", status, view=view, c=view.campaign,
                curve=curve_json(view.curve), slots=list(slots.slots),
                current=ad_of(view.current_filler) if view.HasField("current_filler") else None,
                fillers=fillers, balance=balance, error=error,
                max_price=max_price if max_price is not None else view.current_price)


@form_handler
@signed_in
async def buy(request: Request, form: FormData) -> Response:
    campaign_id: str = request.path_params["campaign_id"]
    user = current_user(request)
    try:
        max_price = whole_number(form, "max_price", "Maximum price")
        bought: pb.BuyResponse = await answered(backends(request).purchase.Buy(pb.BuyRequest(
            user_id=user, campaign_id=campaign_id, max_price=max_price,
            filler_id=text_field(form, "filler_id"))))
    except FormError as exc:
        return await render_campaign(request, campaign_id, str(exc), 400)
    except Refused as refused:
        if refused.problem.unavailable or refused.problem.status == 404:
            return problem_page(request, refused.problem)
        return await render_campaign(request, campaign_id, refused.problem.message,
                                     refused.problem.status, refused.problem.current_price)
    return redirect(f"/campaigns/{campaign_id}", f"You bought slot {bought.slot.slot} for "
                    f"{bought.slot.price}.", request)
