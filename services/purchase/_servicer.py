"""``PurchaseService``: the journal over gRPC. Each method validates through the journal
(which writes nothing for bad input, and turns store failures into ``Interrupted``) and maps
the outcome to a response or a status. Accounts, campaigns, fillers and buying are here; money
out is in ``_withdrawals.py`` (the user's) and ``_payouts.py`` (the operator's), a gateway's
lists in ``_listings.py``, passwords in ``_passwords.py``."""

from __future__ import annotations

import time
from typing import Any

import grpc
from opentelemetry import metrics

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2
from services.journal import (
    Bought,
    Campaign,
    Created,
    Deposited,
    DuplicateDeposit,
    Interrupted,
    Journal,
    LostRace,
    Resolution,
    User,
)
from services.messages import campaign_message, filler_message, price_curve
from services.runtime import Durations

from . import _messages as msg
from ._errors import FILLER_FIELDS, refuse
from ._listings import ListingServicer
from ._passwords import PasswordServicer
from ._payouts import PayoutServicer
from ._withdrawals import WithdrawalServicer

Context = grpc.aio.ServicerContext[Any, Any]
_meter = metrics.get_meter("abc.purchase")
purchase_ms = Durations("abc.purchase", "abc.purchase.duration", "ms", "Buy calls, by outcome",
                        "outcome")
lost_races = _meter.create_counter("abc.purchase.lost_races", description="Buy calls that lost "
                                   "the race for their slot")


class PurchaseServicer(WithdrawalServicer, PayoutServicer, ListingServicer, PasswordServicer,
                       purchase_pb2_grpc.PurchaseServiceServicer):
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def CreateAccount(self, request: pb.CreateAccountRequest, context: Context
                            ) -> pb.Account:
        outcome = await self.journal.create_account(request.user_id, request.password or None)
        if not isinstance(outcome, Created):
            await refuse(context, outcome)
        return pb.Account(user_id=request.user_id, balance=0, locked=False)

    async def Deposit(self, request: pb.DepositRequest, context: Context) -> pb.DepositResponse:
        outcome = await self.journal.deposit(request.user_id, request.deposit_id, request.amount)
        if isinstance(outcome, Deposited):
            return pb.DepositResponse(applied=True, balance=outcome.balance)
        if isinstance(outcome, DuplicateDeposit):
            user = await self._user(request.user_id, context)
            return pb.DepositResponse(applied=False, balance=user.balance)
        await refuse(context, outcome)

    async def GetAccount(self, request: pb.GetAccountRequest, context: Context) -> pb.Account:
        return msg.account(request.user_id, await self._user(request.user_id, context))

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        outcome = await self.journal.login(request.user_id)
        if not isinstance(outcome, Resolution):
            await refuse(context, outcome)
        user = await self._user(request.user_id, context)
        return pb.LoginResponse(resolution=msg.RESOLUTIONS[outcome.value],
                                account=msg.account(request.user_id, user))

    async def CreateCampaign(self, request: pb.CreateCampaignRequest, context: Context
                             ) -> types_pb2.Campaign:
        r = request
        outcome = await self.journal.create_campaign(r.campaign_id, r.owner_id, r.min_price,
                                                     r.slot_seconds, r.ad_width, r.ad_height)
        if not isinstance(outcome, Created):
            await refuse(context, outcome)
        return types_pb2.Campaign(campaign_id=r.campaign_id, owner_id=r.owner_id,
                                  min_price=r.min_price, slot_seconds=r.slot_seconds,
                                  ad_width=r.ad_width, ad_height=r.ad_height)

    async def GetCampaign(self, request: types_pb2.GetCampaignRequest, context: Context
                          ) -> types_pb2.CampaignView:
        cid = request.campaign_id
        c = await self._campaign(cid, context)
        now, slot, filler = await self._showing_now(cid, c, context)
        return types_pb2.CampaignView(
            campaign=campaign_message(cid, c), head=c.head, curve=price_curve(c),
            current_price=self.journal.price_now(c), as_of_ms=now, current_slot=slot,
            current_filler=filler)

    async def UploadFiller(self, request: pb.UploadFillerRequest, context: Context
                           ) -> types_pb2.Filler:
        f = request.filler
        outcome = await self.journal.upload_filler(f.user_id, f.filler_id, f.text, f.link,
                                                   f.image, f.content_type)
        if not isinstance(outcome, Created):
            await refuse(context, outcome, FILLER_FIELDS)
        assert outcome.value is not None  # a creation carries its document
        # As stored: with the media type and size the journal read from the image.
        return filler_message(f.user_id, f.filler_id, outcome.value)

    async def Buy(self, request: pb.BuyRequest, context: Context) -> pb.BuyResponse:
        r = request
        started = time.perf_counter()
        outcome = await self.journal.buy(r.user_id, r.campaign_id, r.max_price,
                                         r.filler_id or None, r.keep_trying)
        name = type(outcome).__name__
        purchase_ms.record((time.perf_counter() - started) * 1000, name)
        if isinstance(outcome, LostRace):
            lost_races.add(1)
        if not isinstance(outcome, Bought):
            await refuse(context, outcome)
        slot = types_pb2.FilledSlot(
            campaign_id=r.campaign_id, slot=outcome.slot, buyer_id=r.user_id,
            price=outcome.price, filler_id=r.filler_id, bought_at_ms=outcome.bought_at,
            start_ms=outcome.start, end_ms=outcome.end)
        response = pb.BuyResponse(slot=slot, receipt=outcome.receipt)
        if outcome.balance is not None:
            response.balance = outcome.balance
        return response

    async def GetCurrentAd(self, request: pb.GetCurrentAdRequest, context: Context
                           ) -> pb.CurrentAd:
        cid = request.campaign_id
        campaign = await self._campaign(cid, context)
        now, slot, filler = await self._showing_now(cid, campaign, context)
        return pb.CurrentAd(slot=slot, filler=filler, as_of_ms=now)

    async def _showing_now(self, cid: str, c: Campaign, context: Context
                           ) -> tuple[int, types_pb2.FilledSlot | None, types_pb2.Filler | None]:
        """Now (ms), and the slot showing now with its filler."""
        now = self.journal.now()
        found = await self.journal.showing(cid, c, now)
        if isinstance(found, Interrupted):
            await refuse(context, found)
        return (now, *msg.showing_parts(cid, found))

    async def _user(self, uid: str, context: Context) -> User:
        found = await self.journal.get_account(uid)
        if not isinstance(found, User):
            await refuse(context, found)
        return found

    async def _campaign(self, cid: str, context: Context) -> Campaign:
        found = await self.journal.get_campaign(cid)
        if not isinstance(found, Campaign):
            await refuse(context, found)
        return found



