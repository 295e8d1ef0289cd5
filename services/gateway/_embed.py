"""The embed page (``GET /embed/{id}``): the ad showing now, rendered here with the pages' own
``ad_card`` (templates/embed.html: escaped text, only http(s) links followed) for the first
paint, then kept current by ``static/embed.js``. Any site may frame it
(``frame-ancestors *``); it runs only this gateway's scripts and loads only its images and
styles."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._live_state import CampaignState, SlotView
from ._views import templates

CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
       "style-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'")
EMPTY_TEXT = "Your ad here"


def embed_page(request: Request, state: CampaignState, showing: SlotView | None) -> Response:
    ad = None if showing is None else showing.ad
    response = templates.TemplateResponse(request, "embed.html", {
        "campaign_id": state.cid, "ad": ad, "empty": EMPTY_TEXT,
        "slot": 0 if ad is None or showing is None else showing.fill.slot})
    response.headers.update({"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                             "Referrer-Policy": "no-referrer"})
    return response
