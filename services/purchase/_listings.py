"""The lists a gateway reads: ``ListCampaigns``, ``ListSlots``, ``ListFillers``,
``GetFiller`` and ``ListPurchases`` (a mixin of ``PurchaseServicer``). Each page reads the
list documents it comes from and then only that page's documents (one more, to know whether
another page follows); none scans the store. A user's purchases come from their purchase list
(pages written by the creditors, docs/protocol.md), whose entries carry all a page shows."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import Journal, Purchases, price_at
from services.messages import campaign_message, filled_slot, filler_message

from . import _messages as msg
from ._errors import refuse
from ._withdrawals import page_of

Context = grpc.aio.ServicerContext[Any, Any]


class ListingServicer:
    """The gateway's list methods of ``PurchaseService``."""

    journal: Journal

    async def ListCampaigns(self, request: pb.ListCampaignsRequest, context: Context
                            ) -> pb.ListCampaignsResponse:
        asked = await page_of("campaigns", (str,), request.page_size, request.page_token,
                              context)
        after = str(asked.after[0]) if asked.after is not None else None
        found = await self.journal.list_campaigns(request.owner_id or None, after,
                                                  asked.size + 1)
        if not isinstance(found, list):
            await refuse(context, found)
        chosen, token = asked.page(found, lambda f: (f[0],), newest_first=False)
        now = self.journal.now()
        return pb.ListCampaignsResponse(
            campaigns=[pb.CampaignSummary(campaign=campaign_message(cid, c), head=c.head,
                                          current_price=price_at(c, now))
                       for cid, c in chosen],
            next_page_token=token, as_of_ms=now)

    async def ListSlots(self, request: pb.ListSlotsRequest, context: Context
                        ) -> pb.ListSlotsResponse:
        cid = request.campaign_id
        asked = await page_of("slots", (int,), request.page_size, request.page_token, context)
        below = int(asked.after[0]) if asked.after is not None else None
        found = await self.journal.list_slots(cid, below, asked.size + 1)
        if not isinstance(found, list):
            await refuse(context, found)
        chosen, token = asked.page(found, lambda f: (f[0],), newest_first=True)
        return pb.ListSlotsResponse(slots=[filled_slot(cid, n, slot) for n, slot in chosen],
                                    next_page_token=token)

    async def ListFillers(self, request: pb.ListFillersRequest, context: Context
                          ) -> pb.ListFillersResponse:
        uid = request.user_id
        asked = await page_of("fillers", (str,), request.page_size, request.page_token,
                              context)
        after = str(asked.after[0]) if asked.after is not None else None
        found = await self.journal.list_fillers(uid, after, asked.size + 1)
        if not isinstance(found, list):
            await refuse(context, found)
        chosen, token = asked.page(found, lambda f: (f[0],), newest_first=False)
        # Without images: a page of them could pass gRPC's message limit (GetFiller has it).
        fillers = [filler_message(uid, fid, value, with_image=False) for fid, value in chosen]
        return pb.ListFillersResponse(fillers=fillers, next_page_token=token)

    async def GetFiller(self, request: pb.GetFillerRequest, context: Context
                        ) -> types_pb2.Filler:
        uid, fid = request.user_id, request.filler_id
        found = await self.journal.get_filler(uid, fid)
        if not isinstance(found, dict):
            await refuse(context, found)
        return filler_message(uid, fid, found)

    async def ListPurchases(self, request: pb.ListPurchasesRequest, context: Context
                            ) -> pb.ListPurchasesResponse:
        uid = request.user_id
        # The token: the last purchase handed out (bought_at, campaign, slot), and the page
        # of the user's list the first page's walk started at (later pages start there too).
        asked = await page_of("purchases", (int, str, int, int), request.page_size,
                              request.page_token, context)
        before, start = None, None
        if asked.after is not None:
            at, cid, n, start = (int(asked.after[0]), str(asked.after[1]),
                                 int(asked.after[2]), int(asked.after[3]))
            before = (at, cid, n)
        found = await self.journal.list_purchases(uid, before, start, asked.size + 1)
        if not isinstance(found, Purchases):
            await refuse(context, found)
        chosen, token = asked.page(
            found.purchases, lambda p: (p.bought_at, p.campaign, p.slot, found.start_page),
            newest_first=True)
        return pb.ListPurchasesResponse(
            purchases=[msg.listed_purchase(uid, p) for p in chosen], next_page_token=token)
