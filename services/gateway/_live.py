"""Live updates by Server-Sent Events: ``GET /campaigns/{campaign_id}/events``.

Each message's ``id`` is a slot number. A new stream starts with ``event: snapshot`` (``id``:
the head), data::

    {"campaign_id", "head", "min_price", "slot_seconds", "ad_width", "ad_height",
     "curve": {"min_price", "last": {"price", "bought_at_ms", "end_ms"} | null},
     "current_price", "as_of_ms", "current": SLOT | null, "upcoming": [SLOT, ...]}

then ``event: fill`` per finished slot (``id``: the slot), data: SLOT plus ``curve``,
``current_price`` and ``as_of_ms`` as they are after it, where SLOT is::

    {"campaign_id", "slot", "void", "buyer_id", "filler_id", "price", "bought_at_ms",
     "start_ms", "end_ms", "filler": {"text", "link", "image_url", "width", "height"} | null}

``link`` is an http(s) URL or ""; ``image_url`` a URL on this gateway or "". Text is data:
a page puts it in with ``textContent``, never as HTML.

A browser that reconnects sends ``Last-Event-ID`` and gets the fills after that slot (from the
hub's ring of recent fills), or a fresh snapshot when the ring no longer reaches back; a page
that rendered slot N first connects with ``?after=N``: a snapshot, then the fills after N
(the snapshot's ``upcoming`` may list some of them too). Comments every
15 s keep proxies from closing a quiet stream. An unknown campaign is 404; notify out of
reach, 503 with Retry-After."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ._hub import LiveHub
from ._sse import EventStream
from ._watch import CampaignNotFound, LiveUnavailable

CAMPAIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SLOT_NUMBER = re.compile(r"[0-9]{1,18}")
RETRY_AFTER_S = 2


def live_routes(hub: LiveHub) -> list[Route]:
    """The SSE route, served from ``hub``. Not rate-limited: a page behind a shared address
    (an office, a NAT) opens one stream per viewer, and each costs a bounded queue; how many
    connections one address may hold is the server's or the proxy's to cap."""

    async def events(request: Request) -> Response:
        cid = request.path_params["campaign_id"]
        try:
            after, snapshot = resume_point(request)
        except ValueError as exc:
            return PlainTextResponse(f"{exc}\n", 400)
        if not CAMPAIGN_ID.fullmatch(cid):
            return not_found(cid)
        try:
            subscriber = await hub.subscribe(cid, after, snapshot)
        except CampaignNotFound:
            return not_found(cid)
        except LiveUnavailable:
            return unavailable()
        return EventStream(subscriber, lambda: hub.unsubscribe(subscriber))

    return [Route("/campaigns/{campaign_id}/events", events, methods=["GET"])]


def resume_point(request: Request) -> tuple[int | None, bool]:
    """Where a stream starts: (the slot it resumes after, whether a snapshot comes first).
    ``Last-Event-ID`` (a browser reconnecting; ignored unless a slot number, as a browser
    only sends back what it was given): the fills after it, no snapshot. ``?after=N`` (a page
    that rendered slot N): a snapshot, then the fills after N. Neither: a snapshot.
    ValueError for an ``after`` that is not a slot number."""
    last = request.headers.get("last-event-id", "")
    if SLOT_NUMBER.fullmatch(last):
        return int(last), False
    after = request.query_params.get("after")
    if after is None:
        return None, True
    if not SLOT_NUMBER.fullmatch(after):
        raise ValueError("after: want a slot number")
    return int(after), True


def not_found(cid: str) -> Response:
    shown = cid if CAMPAIGN_ID.fullmatch(cid) else "with that id"
    return PlainTextResponse(f"no campaign {shown}\n", 404)


def unavailable() -> Response:
    return PlainTextResponse("live updates are unavailable for now: try again shortly\n", 503,
                             headers={"Retry-After": str(RETRY_AFTER_S)})
