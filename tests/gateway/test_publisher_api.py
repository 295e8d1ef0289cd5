"""The publishers' API and embed page against a real purchase and notify, through uvicorn:
the ad showing now as JSON and its image, cached until the slot ends (ETag, 304,
Cache-Control), open to any origin, rate-limited per client; served from the hub's state
(no API call per request once warm); and a hostile filler written straight into the store
(a ``<script>`` text, a ``javascript:`` link) comes out as inert text, never markup or a
link."""

from __future__ import annotations

import asyncio
import io
import math
import re
import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.gateway._ratelimit import TokenBuckets
from services.journal import filler_key
from services.lab.cluster import NatsServer
from services.store import open_store
from tests._support.world import KITES, open_world, store_url
from tests.notify._support import stack

from ._live_support import buy_with_ad, live_gateway

pytestmark = pytest.mark.asyncio

HOSTILE = {"text": '<script>alert("x")</script><b onmouseover=alert(1)>hi</b>',
           "link": "javascript:alert(document.cookie)", "image": ""}


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def test_the_ad_showing_now_is_cached_until_its_slot_ends(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub, filler=KITES, slot_seconds=60)
        idle = await client.get("/api/v1/campaigns/c1/ad")
        assert idle.status_code == 200
        assert idle.json() == {"campaign_id": "c1", "slot": 0, "text": "", "link": "",
                               "image_url": "", "width": 0, "height": 0, "start_ms": 0,
                               "end_ms": 0}
        assert idle.headers["cache-control"] == "public, max-age=1"

        slot = await buy_with_ad(s.buy_stub)
        await _until_showing(client)
        response = await client.get("/api/v1/campaigns/c1/ad")
        body = response.json()
        assert body == {"campaign_id": "c1", "slot": 1, "text": KITES.text,
                        "link": KITES.link, "image_url": "", "width": 0, "height": 0,
                        "start_ms": slot.start_ms, "end_ms": slot.end_ms}
        tag = response.headers["etag"]
        assert tag == '"c1:1"'
        control = re.fullmatch(r"public, max-age=(\d+)", response.headers["cache-control"])
        assert control is not None
        max_age = int(control.group(1))
        assert 0 < max_age <= math.ceil((slot.end_ms - time.time() * 1000) / 1000) + 1
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["x-content-type-options"] == "nosniff"

        cached = await client.get("/api/v1/campaigns/c1/ad", headers={"If-None-Match": tag})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == tag
        stale = await client.get("/api/v1/campaigns/c1/ad",
                                 headers={"If-None-Match": '"c1:0"'})
        assert stale.status_code == 200

        reads = gw.hub.fillers.reads
        for _ in range(5):
            assert (await client.get("/api/v1/campaigns/c1/ad")).json()["slot"] == 1
        assert gw.hub.fillers.reads == reads  # served from the hub: no GetFiller per request

        preflight = await client.options("/api/v1/campaigns/c1/ad")
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-methods"] == "GET"
        assert (await client.get("/api/v1/campaigns/nope/ad")).status_code == 404


async def test_the_image_is_served_with_its_type_and_nosniff(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        image = png(4, 2)
        await open_world(s.buy_stub, filler=types_pb2.Filler(
            user_id="alice", filler_id="f1", text="Red", link="https://red.example",
            image=image))
        assert (await client.get("/api/v1/campaigns/c1/ad/image")).status_code == 404
        await buy_with_ad(s.buy_stub)
        ad = await _until_showing(client)
        assert ad["image_url"].endswith("/api/v1/campaigns/c1/ad/image?slot=1")
        assert ad["image_url"].startswith(gw.url)
        for path in ("/api/v1/campaigns/c1/ad/image", "/api/v1/campaigns/c1/ad/image?slot=1"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.content == image
            assert response.headers["content-type"] == "image/png"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["etag"] == '"c1:1"'
        fixed = await client.get("/api/v1/campaigns/c1/ad/image?slot=1",
                                 headers={"If-None-Match": 'W/"c1:1"'})
        assert fixed.status_code == 304
        assert (await client.get("/api/v1/campaigns/c1/ad/image?slot=9")).status_code == 404
        assert (await client.get("/api/v1/campaigns/c1/ad/image?slot=x")).status_code == 400


async def _until_showing(client: httpx.AsyncClient) -> dict[str, Any]:
    """The ad JSON once a slot is showing (the fill reaches the hub a moment after Buy)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body: dict[str, Any] = (await client.get("/api/v1/campaigns/c1/ad")).json()
        if body["slot"]:
            return body
        await asyncio.sleep(0.01)
    raise AssertionError("no slot showing within 5 s")


async def test_a_client_over_its_rate_gets_429_with_retry_after(
        tmp_path: Path, nats_server: NatsServer) -> None:
    now = [0.0]  # the limiter's clock, moved by hand
    limits = TokenBuckets(rate_per_s=0.5, burst=3, clock=lambda: now[0])
    async with stack(store_url(tmp_path), nats_server.url) as s, \
            live_gateway(s, limits=limits) as gw, gw.client() as client:
        await open_world(s.buy_stub)
        codes = [(await client.get("/api/v1/campaigns/c1/ad")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = await client.get("/api/v1/campaigns/c1/ad/image")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"  # one token at 0.5 a second
        assert refused.headers["access-control-allow-origin"] == "*"
        now[0] += 2
        assert (await client.get("/api/v1/campaigns/c1/ad")).status_code == 200
        assert (await client.get("/embed/c1")).status_code == 429


async def test_a_hostile_filler_in_the_store_comes_out_inert(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)
    async with stack(url, nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub)
        store = await open_store(url)
        try:  # the API would refuse this link: write the filler as a broken writer might
            await store.insert(filler_key("alice", "evil"), HOSTILE)
        finally:
            await store.close()
        await s.buy_stub.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                           max_price=10**12, filler_id="evil"))
        ad = await _until_showing(client)
        assert ad["text"] == HOSTILE["text"]  # data, as it is: the page sets it as text
        assert ad["link"] == ""
        page = await client.get("/embed/c1")
        assert page.status_code == 200
        html = page.text
        assert "<script>alert" not in html and "<b onmouseover" not in html
        shown = re.search(r'<span class="ad-text">([^<]*)</span>', html)
        assert shown is not None and unescape(shown.group(1)) == HOSTILE["text"]
        assert "javascript:" not in html and "<a " not in html
        assert re.findall(r"<script[^>]*>", html) == [
            '<script src="/static/live.js">', '<script src="/static/embed.js">']
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors *" in csp and "script-src 'self'" in csp
        assert "x-frame-options" not in page.headers
