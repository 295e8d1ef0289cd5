"""Live updates in a real browser (Debian's chromium through Playwright) against a whole
system of real processes (tests/gateway/conftest.py): a campaign page left open shows a
purchase within a second, without a reload; a publisher's page on another origin frames the
embed, which shows the buyer's ad and swaps it for the next when that slot begins. The
people's accounts, ads and purchases go through the purchase API (with the gateway's
token): what is under test is the page, not the forms."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2
from services.gateway._live_state import price_at

from ._system import System

TIMEOUT_MS = 10_000
CALL_TIMEOUT_S = 10


@pytest.fixture
def api(system: System) -> Iterator[Api]:
    with grpc.insecure_channel(system.purchase) as channel:
        yield Api(system, purchase_pb2_grpc.PurchaseServiceStub(channel))


class Api:
    """The purchase service as the gateway calls it (its token on every call)."""

    def __init__(self, system: System, stub: purchase_pb2_grpc.PurchaseServiceStub) -> None:
        self.system = system
        self.stub = stub

    def call(self, method: str, request: object) -> object:
        return getattr(self.stub, method)(request, metadata=self.system.gateway_metadata,
                                          timeout=CALL_TIMEOUT_S)

    def buyer(self, user: str, filler_id: str, text: str, image: bytes = b"") -> None:
        """``user`` with money and one ad."""
        self.call("CreateAccount", pb.CreateAccountRequest(user_id=user))
        self.system.deposit(user, 10**6, f"d-{user}")
        self.call("UploadFiller", pb.UploadFillerRequest(filler=types_pb2.Filler(
            user_id=user, filler_id=filler_id, text=text, link=f"https://{user}.example",
            image=image)))

    def campaign(self, cid: str, owner: str, slot_seconds: int = 60) -> None:
        self.call("CreateAccount", pb.CreateAccountRequest(user_id=owner))
        self.call("CreateCampaign", pb.CreateCampaignRequest(
            campaign_id=cid, owner_id=owner, min_price=10, slot_seconds=slot_seconds))

    def buy(self, user: str, cid: str, filler_id: str) -> types_pb2.FilledSlot:
        response = self.call("Buy", pb.BuyRequest(user_id=user, campaign_id=cid,
                                                  filler_id=filler_id, max_price=10**5))
        assert isinstance(response, pb.BuyResponse)
        return response.slot


def _page(browser: Browser) -> Page:
    page = browser.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#d62f24").save(out, "PNG")
    return out.getvalue()


def test_an_open_campaign_page_shows_a_purchase_within_a_second_without_reload(
        system: System, browser: Browser, api: Api) -> None:
    api.campaign("live1", "sally")
    api.buyer("bart", "kites", "Kites for all")
    seller = _page(browser)
    seller.goto(f"{system.url}/campaigns/live1")
    expect(seller.locator("#live-status")).to_have_text("Live")
    expect(seller.locator("#price")).to_have_text("10")
    seller.evaluate("window.sameDocument = true")  # gone if the page reloads

    slot = api.buy("bart", "live1", "kites")
    bought = time.monotonic()
    row = seller.locator('#recent-slots tbody tr[data-slot="1"]')
    expect(row).to_be_visible(timeout=1000)
    shown_in = time.monotonic() - bought
    assert shown_in < 1.0, shown_in
    expect(row.locator("td")).to_have_text(["1", "bart", str(slot.price), re.compile(r"\S"),
                                            "kites"])
    expect(seller.locator("#current-ad .ad-text")).to_have_text("Kites for all")
    expect(seller.locator("#current-ad a.ad-link")).to_have_attribute(
        "href", "https://bart.example")
    expect(seller.locator("#no-slots")).to_have_count(0)
    expect(seller.locator(".next-slot")).to_have_text(["2"])  # "Slot 2. The price ..."
    price = int(seller.locator("#price").inner_text())
    assert slot.price < price <= 2 * slot.price  # doubled, and falling
    assert seller.evaluate("window.sameDocument") is True


def test_the_live_script_prices_as_the_gateway_does(system: System, browser: Browser,
                                                    api: Api) -> None:
    api.campaign("live2", "sue")
    page = _page(browser)
    page.goto(f"{system.url}/campaigns/live2")
    curves = [types_pb2.PriceCurve(min_price=m, last=types_pb2.Purchase(
        price=p, bought_at_ms=b, end_ms=b + n)) for m, p, b, n in [
        (7, 10, 1_000, 60_000), (1, 10**15, 1_700_000_000_000, 86_400_000),
        (5, 3, 0, 9), (10, 10, 5, 0)]]
    curves.append(types_pb2.PriceCurve(min_price=42))
    for curve in curves:
        last = curve.last if curve.HasField("last") else None
        data = {"min_price": curve.min_price, "last": None if last is None else {
            "price": last.price, "bought_at_ms": last.bought_at_ms, "end_ms": last.end_ms}}
        start = 0 if last is None else last.bought_at_ms
        for now in (start - 1, start, start + 1, start + 7, start + 30_000_123,
                    start + 86_400_001):
            got = page.evaluate(f"AbcLive.priceAt({json.dumps(data)}, {now}).toString()")
            assert int(got) == price_at(curve, now), (data, now)


def test_a_publishers_embed_shows_the_ad_and_swaps_it_when_the_next_slot_begins(
        system: System, browser: Browser, api: Api) -> None:
    api.campaign("live3", "sid", slot_seconds=3)
    api.buyer("ann", "first", "Ann's apples", _png((80, 40)))
    api.buyer("ben", "second", "Ben's bikes")
    publisher = _page(browser)
    snippet = (f'<iframe src="{system.url}/embed/live3" width="320" height="100" '
               'style="border:0" title="Ad"></iframe>')
    with publisher_site(f"<!doctype html><title>News</title><h1>News</h1>{snippet}") as site:
        publisher.goto(site)
        embed = publisher.frame_locator("iframe")
        expect(embed.locator(".ad.empty")).to_have_text("Your ad here")

        first = api.buy("ann", "live3", "first")
        expect(embed.locator(".ad-text")).to_have_text("Ann's apples")
        image = embed.locator(".ad img")
        expect(image).to_have_attribute("src", "/api/v1/campaigns/live3/ad/image?slot=1")
        _until(lambda: image.evaluate("i => i.naturalWidth") == 80, "the image loaded")
        second = api.buy("ben", "live3", "second")  # queued: it begins when the first ends
        assert second.start_ms == first.end_ms
        time.sleep(max(0.0, (second.start_ms - 400) / 1000 - time.time()))
        assert embed.locator(".ad-text").inner_text() == "Ann's apples"  # not swapped early
        expect(embed.locator(".ad-text")).to_have_text("Ben's bikes")
        swapped_late_ms = time.time() * 1000 - second.start_ms
        assert swapped_late_ms < 1000, swapped_late_ms
        expect(embed.locator(".ad.empty")).to_have_text("Your ad here")  # after the second ends


@contextlib.contextmanager
def publisher_site(html: str) -> Iterator[str]:
    """A publisher's page on another origin (another port of 127.0.0.1: a public site may not
    frame a loopback address in chromium) serving ``html``; its URL."""
    body = html.encode()

    class Serve(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serve) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/news"
        finally:
            server.shutdown()
            thread.join(5)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not check():
        assert time.monotonic() < deadline, f"not within {TIMEOUT_MS} ms: {what}"
        time.sleep(0.05)
