"""The embed page (``GET /embed/{id}``): the ad showing now, rendered here for the first paint,
then kept current by ``static/embed.js``. Any site may frame it; it runs only this gateway's
scripts, loads only its images, and its one inline style is allowed by hash."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from starlette.responses import HTMLResponse

from ._live_state import CampaignState, SlotView

STYLE = ("html,body{margin:0;height:100%;font:14px/1.3 system-ui,sans-serif}"
         "#embed{height:100%;display:flex;align-items:center;justify-content:center}"
         ".ad{display:flex;gap:.5em;align-items:center;color:inherit;text-decoration:none;"
         "max-width:100%;overflow:hidden}"
         ".ad img{max-width:100%;max-height:100vh;height:auto}"
         ".ad.empty{color:#777}")
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
       f"style-src 'sha256-{_STYLE_HASH}'; frame-ancestors *; base-uri 'none'; "
       "form-action 'none'")
EMPTY_TEXT = "Your ad here"


def embed_page(state: CampaignState, showing: SlotView | None) -> HTMLResponse:
    cid = escape(state.cid)
    page = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Ad</title><style>{STYLE}</style></head>'
            f'<body><div id="embed" data-campaign-id="{cid}" aria-live="polite">'
            f'{_ad_html(showing)}</div>'
            '<script src="/static/live.js"></script><script src="/static/embed.js"></script>'
            '</body></html>\n')
    return HTMLResponse(page, headers={"Content-Security-Policy": CSP,
                                       "Cache-Control": "no-cache",
                                       "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer"})


def _ad_html(showing: SlotView | None) -> str:
    """The markup embed.js also builds (``AbcLive.renderAd``), every value escaped."""
    ad = None if showing is None else showing.ad
    if ad is None:
        return f'<div class="ad empty"><span class="text">{EMPTY_TEXT}</span></div>'
    size = f' width="{ad.width}" height="{ad.height}"' if ad.width and ad.height else ""
    image = f'<img src="{escape(ad.image_url)}" alt=""{size}>' if ad.image_url else ""
    inner = f'{image}<span class="text">{escape(ad.text)}</span>'
    if not ad.link:
        return f'<div class="ad">{inner}</div>'
    return (f'<a class="ad" href="{escape(ad.link)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{inner}</a>')
