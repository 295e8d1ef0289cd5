"""The publishers' API: what a campaign shows now, for a publisher's page.

- ``GET /api/v1/campaigns/{id}/ad``: JSON ``{"campaign_id", "slot", "text", "link",
  "image_url", "width", "height", "start_ms", "end_ms"}`` of the slot showing now (``slot``
  0 and empty fields when none is); ``link`` is http(s) or "", ``image_url`` absolute or "".
- ``GET /api/v1/campaigns/{id}/ad/image[?slot=N]``: that ad's image (or slot N's, while this
  gateway still has it), with the API's content type and ``nosniff``.

Both carry an ETag (``"<campaign>:<slot>"``) and ``Cache-Control: public, max-age=`` the
seconds until the slot ends (1 s when nothing is showing: a purchase would show at once; a
day for slot N's image, which never changes), answer 304 to a matching If-None-Match, allow
any origin to GET them (CORS), and are rate-limited per client IP (429 with Retry-After). They
are served from the hub's live state: after a campaign's first request, none reads the store
or calls the API (an image is read once per filler).

- ``GET /embed/{id}``: a small page for an iframe (any site may frame it:
  ``frame-ancestors *``) that shows the current ad and swaps it when the next slot begins, by
  ``static/embed.js`` on the SSE stream (``_live``). A publisher pastes::

    <iframe src="https://GATEWAY/embed/CAMPAIGN" width="320" height="120"
            style="border:0" title="Ad"></iframe>

Whatever the store holds, text is escaped and only http(s) links become links.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._ads import IMAGE_TYPES
from ._embed import embed_page
from ._hub import LiveHub
from ._live import CAMPAIGN_ID, SLOT_NUMBER, not_found, unavailable
from ._live_state import CampaignState, SlotView
from ._ratelimit import TokenBuckets
from ._sse import wall_ms
from ._watch import LiveError, LiveUnavailable

REQUESTS_PER_S, BURST = 10.0, 40  # per client IP, across these routes
IDLE_MAX_AGE_S = 1  # nothing showing: a purchase now would show at once
IMAGE_MAX_AGE_S = 86_400  # a given slot's image never changes
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "GET",
             "Access-Control-Allow-Headers": "If-None-Match", "Access-Control-Max-Age": "86400"}


def publisher_routes(hub: LiveHub, limits: TokenBuckets | None = None) -> list[Route]:
    """The publishers' routes, served from ``hub``; ``limits``: requests per client IP."""
    buckets = TokenBuckets(REQUESTS_PER_S, BURST) if limits is None else limits

    async def ad(request: Request) -> Response:
        state = await _state(hub, buckets, request)
        if isinstance(state, Response):
            return state
        now = wall_ms()
        showing = state.showing(now)
        tag, max_age = _freshness(state, showing, now)
        if _matches(request, tag):
            return _not_modified(tag, max_age)
        body = _ad_json(request, state.cid, showing)
        return JSONResponse(body, headers=_cached(tag, max_age))

    async def image(request: Request) -> Response:
        state = await _state(hub, buckets, request)
        if isinstance(state, Response):
            return state
        asked = request.query_params.get("slot")
        if asked is not None and not SLOT_NUMBER.fullmatch(asked):
            return Response("slot: want a slot number\n", 400, headers=CORS)
        now = wall_ms()
        view = state.showing(now) if asked is None else state.slot(int(asked))
        if view is None or view.ad is None or not view.ad.image_url:
            return Response("no image\n", 404, headers=_cached(None, IDLE_MAX_AGE_S))
        tag, max_age = _freshness(state, view, now)
        if asked is not None:
            max_age = IMAGE_MAX_AGE_S
        if _matches(request, tag):
            return _not_modified(tag, max_age)
        filler = await hub.filler(view.fill.buyer_id, view.fill.filler_id)
        if filler is None or filler.content_type not in IMAGE_TYPES:
            return Response("image unavailable\n", 503, headers={**CORS, "Retry-After": "2"})
        return Response(filler.image, media_type=filler.content_type,
                        headers=_cached(tag, max_age))

    async def embed(request: Request) -> Response:
        state = await _state(hub, buckets, request)
        if isinstance(state, Response):
            return state
        return embed_page(request, state, state.showing(wall_ms()))

    async def preflight(request: Request) -> Response:
        return Response(status_code=204, headers=PREFLIGHT)

    return [Route("/api/v1/campaigns/{campaign_id}/ad", ad, methods=["GET"]),
            Route("/api/v1/campaigns/{campaign_id}/ad", preflight, methods=["OPTIONS"]),
            Route("/api/v1/campaigns/{campaign_id}/ad/image", image, methods=["GET"]),
            Route("/api/v1/campaigns/{campaign_id}/ad/image", preflight, methods=["OPTIONS"]),
            Route("/embed/{campaign_id}", embed, methods=["GET"])]


async def _state(hub: LiveHub, buckets: TokenBuckets, request: Request
                 ) -> CampaignState | Response:
    """The campaign's live state, or the response that refuses the request."""
    refused = buckets.refuse(request)
    if refused is not None:
        return refused
    cid = request.path_params["campaign_id"]
    if not CAMPAIGN_ID.fullmatch(cid):
        return _with_cors(not_found(cid))
    try:
        return await hub.view(cid)
    except LiveUnavailable:
        return _with_cors(unavailable())
    except LiveError:
        return _with_cors(not_found(cid))


def _freshness(state: CampaignState, showing: SlotView | None, now: int) -> tuple[str, int]:
    """The ETag and max-age (s) of what ``state`` shows now."""
    if showing is None:
        return f'"{state.cid}:none:{state.head}"', IDLE_MAX_AGE_S
    return f'"{state.cid}:{showing.fill.slot}"', max(0, math.ceil(
        (showing.fill.end_ms - now) / 1000))


def _ad_json(request: Request, cid: str, showing: SlotView | None) -> dict[str, Any]:
    body: dict[str, Any] = {"campaign_id": cid, "slot": 0, "text": "", "link": "",
                            "image_url": "", "width": 0, "height": 0, "start_ms": 0,
                            "end_ms": 0}
    if showing is None:
        return body
    fill = showing.fill
    body.update(slot=fill.slot, start_ms=fill.start_ms, end_ms=fill.end_ms)
    if showing.ad is not None:
        body.update(showing.ad.json())
        if showing.ad.image_url:  # absolute: the publisher's page is on another origin
            body["image_url"] = str(request.base_url).rstrip("/") + showing.ad.image_url
    return body


def _matches(request: Request, tag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    return tag in tags or "*" in tags


def _cached(tag: str | None, max_age: int) -> dict[str, str]:
    headers = {**CORS, "Cache-Control": f"public, max-age={max_age}",
               "X-Content-Type-Options": "nosniff"}
    if tag is not None:
        headers["ETag"] = tag
    return headers


def _not_modified(tag: str, max_age: int) -> Response:
    return Response(status_code=304, headers=_cached(tag, max_age))


def _with_cors(response: Response) -> Response:
    response.headers.update(CORS)
    return response
