"""The pages and forms over plain HTTP against a whole system of real processes (no browser
needed): what the campaign page hands the live script, logging in with a password, refusals
said in words (an unknown campaign, bad numbers, a price above the maximum, an oversized or
50 MB upload), withdrawing (a form sent twice is one withdrawal), earnings, and a gateway
whose token purchase refuses."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from services.gateway import GatewayConfig, create_app
from tests._support.waiting import wait_for

from ._http import PASSWORD, Visitor, csrf_of
from ._system import SESSION_SECRET, System
from ._testclient import TestClient


@pytest.fixture
def visitor(system: System) -> Iterator[Visitor]:
    with Visitor(system.url) as person:
        yield person


def _error(page: str) -> str:
    found = re.findall(r'class="notice error form-error"[^>]*>([^<]*)<', page)
    assert len(found) == 1, page
    return html.unescape(found[0])


def _notice(page: str) -> str:
    found = re.findall(r'<p class="notice ok"[^>]*>([^<]*)</p>', page)
    assert len(found) == 1, page
    return html.unescape(found[0])


def _main_attributes(page: str) -> dict[str, str]:
    tag = re.search(r"<main ([^>]*)>", page)
    assert tag is not None
    return {k: html.unescape(v1 or v2) for k, v1, v2 in
            re.findall(r'([\w-]+)=(?:"([^"]*)"|\'([^\']*)\')', tag.group(1))}


def test_the_campaign_page_hands_the_live_script_what_it_needs(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("lena")
    assert visitor.open_campaign("live-one", 30).status_code == 303
    system.deposit("lena", 500, "d1")
    assert visitor.buy("live-one", 30).status_code == 303
    page = visitor.get("/campaigns/live-one").text
    main = _main_attributes(page)
    assert (main["id"], main["data-campaign-id"], main["data-head"]) == (
        "campaign", "live-one", "1")
    curve = json.loads(main["data-curve"])
    assert curve["min_price"] == 30
    assert curve["last"]["price"] == 30
    assert curve["last"]["end_ms"] - curve["last"]["bought_at_ms"] == 60_000
    assert abs(int(main["data-as-of-ms"]) - curve["last"]["bought_at_ms"]) < 60_000
    assert re.search(r'id="price"[^>]*>\d+<', page)
    assert 'id="current-ad"' in page and 'id="live-status"' in page
    body = re.search(r'<table id="recent-slots">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body is not None and body.group(1).count('<tr data-slot="1"') == 1
    assert '<script src="/static/live.js" defer></script>' in page


def test_a_campaign_nobody_bought_has_no_last_purchase(system: System,
                                                       visitor: Visitor) -> None:
    visitor.sign_up("nell")
    visitor.open_campaign("quiet", 7)
    main = _main_attributes(visitor.get("/campaigns/quiet").text)
    assert json.loads(main["data-curve"]) == {"min_price": 7, "last": None}
    assert main["data-head"] == "0"


def test_logging_in_takes_the_password(system: System, visitor: Visitor) -> None:
    visitor.sign_up("pia")
    visitor.post("/logout", {}, page="/account")
    assert visitor.get("/account").status_code == 303  # signed out
    wrong = visitor.post("/login", {"user_id": "pia", "password": "not the password"})
    assert wrong.status_code == 401
    assert _error(wrong.text) == "Wrong user name or password."
    right = visitor.post("/login", {"user_id": "pia", "password": PASSWORD,
                                    "next": "/selling"})
    assert (right.status_code, right.headers["location"]) == (303, "/selling")
    assert visitor.get("/selling").status_code == 200


def test_logging_in_never_sends_you_to_another_site(system: System,
                                                    visitor: Visitor) -> None:
    visitor.sign_up("otto")
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = visitor.post("/login", {"user_id": "otto", "password": PASSWORD,
                                         "next": elsewhere})
        assert answer.headers["location"] == "/account"


def test_signing_up_with_a_taken_name_or_a_short_password_says_so(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("taken")
    with Visitor(system.url) as other:
        answer = other.post("/signup", {"user_id": "taken", "password": PASSWORD,
                                        "password2": PASSWORD})
        assert (answer.status_code, _error(answer.text)) == (409, "That user name is taken.")
        answer = other.post("/signup", {"user_id": "shorty", "password": "abc",
                                        "password2": "abc"})
        assert answer.status_code == 400 and "at least 8" in _error(answer.text)
        answer = other.post("/signup", {"user_id": "bad name!", "password": PASSWORD,
                                        "password2": PASSWORD})
        assert answer.status_code == 400 and _error(answer.text).startswith("User name: ")


def test_unknown_and_malformed_campaigns_are_a_404_page(visitor: Visitor) -> None:
    for path in ("/campaigns/nope", "/campaigns/bad%20id!", "/campaigns/" + "x" * 300):
        answer = visitor.get(path)
        assert answer.status_code in (400, 404), (path, answer.status_code)
        assert "Traceback" not in answer.text and "<h1>" in answer.text


def test_bad_numbers_and_a_price_above_the_maximum_are_said_on_the_form(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("ned")
    visitor.open_campaign("numbers", 50)
    system.deposit("ned", 1000, "d1")
    for bad in ("abc", "-5", "1.5", "", "9" * 30):
        answer = visitor.buy("numbers", 0) if bad == "" else visitor.post(
            "/campaigns/numbers/buy", {"max_price": bad}, page="/campaigns/numbers")
        assert answer.status_code == 400, (bad, answer.status_code)
    assert _error(visitor.post("/campaigns/numbers/buy", {"max_price": "abc"},
                               page="/campaigns/numbers").text) == (
        "Maximum price: enter a whole number.")
    answer = visitor.buy("numbers", 49)
    assert answer.status_code == 409
    assert _error(answer.text) == "The price is now 50, above your maximum."
    assert 'name="max_price" type="number" min="1" step="1" required value="50"' in answer.text


def test_an_oversized_or_fake_image_is_refused_and_the_gateway_keeps_serving(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("ivy")
    form = {"filler_id": "big", "text": "Big"}
    answer = visitor.post("/account/ads", form, page="/account",
                          files={"image": ("big.png", b"\x89PNG" + b"0" * 300_000, "image/png")})
    assert answer.status_code == 400
    assert _error(answer.text) == "Image: at most 256 KiB."

    def fifty_megabytes() -> Iterator[bytes]:
        yield (b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        for _ in range(50 * 16):
            yield b"0" * 65536

    answer = visitor.post("/account/ads", {"filler_id": "fake", "text": "Fake"}, page="/account",
                          files={"image": ("fake.png", b"not an image at all", "image/png")})
    assert answer.status_code == 400
    assert _error(answer.text).startswith("Image: ")  # purchase decoded it, and refused

    token = csrf_of(visitor.get("/account").text)
    try:
        huge = visitor.client.post("/account/ads", content=fifty_megabytes(), headers={
            "content-type": "multipart/form-data; boundary=x", "x-csrf": token})
        assert huge.status_code == 413
    except httpx.TransportError:
        pass  # the gateway answered 413 and closed before the client finished sending
    assert visitor.get("/healthz").text == "ok"


def test_withdrawing_and_a_form_sent_twice_is_one_withdrawal(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("wes")
    system.deposit("wes", 300, "d1")
    page = visitor.get("/selling").text
    withdrawal_id = re.search(r'name="withdrawal_id" value="([0-9a-f]{32})"', page)
    assert withdrawal_id is not None
    form = {"csrf": csrf_of(page), "withdrawal_id": withdrawal_id.group(1),
            "amount": "120", "destination": "NL00BANK0123456789"}
    first = visitor.client.post("/selling/withdrawals", data=form)
    again = visitor.client.post("/selling/withdrawals", data=form)
    assert first.status_code == again.status_code == 303, first.text
    page = visitor.get("/selling").text
    notices = re.findall(r'<p class="notice ok"[^>]*>([^<]*)</p>', page)
    assert notices[0].startswith("Your withdrawal of 120 (fee ")
    assert notices[0].endswith(") is requested.")
    assert notices[1].endswith(") was already requested.")
    history = re.search(r"<h3>My withdrawals</h3>(.*?)</section>", page, re.S)
    assert history is not None and history.group(1).count("NL00BANK0123456789") == 1
    too_much = visitor.post("/selling/withdrawals", {"amount": "100000", "destination": "x",
                                                     "withdrawal_id": "w2"}, page="/selling")
    assert too_much.status_code == 409, _error(too_much.text)
    assert _error(too_much.text).startswith("Your balance (")


def test_a_sellers_earnings_are_the_credits_of_their_sales(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("erin")
    visitor.open_campaign("earner", 200)
    with Visitor(system.url) as buyer:
        buyer.sign_up("ezra")
        system.deposit("ezra", 1000, "d1")
        assert buyer.buy("earner", 200).status_code == 303

    def earned() -> int | None:
        found = re.search(r'id="earned">(\d+)<', visitor.get("/selling").text)
        assert found is not None
        return int(found.group(1)) or None

    share = wait_for(earned, "the sale credited to the seller", 20)
    assert 190 <= share < 200  # the price less the operator's fee (1.5% by default)
    assert "earner:1-1" in visitor.get("/selling").text


def test_an_account_shows_its_purchases_or_says_why_not(
    system: System, visitor: Visitor,
) -> None:
    visitor.sign_up("abe")
    visitor.open_campaign("mine", 3)
    system.deposit("abe", 100, "d1")
    visitor.buy("mine", 3)
    section = re.search(r'<section class="card" id="purchases">(.*?)</section>',
                        visitor.get("/account").text, re.S)
    assert section is not None
    assert ("can&#39;t be listed on this server yet" in section.group(1)
            or "No purchases yet" in section.group(1) or "/campaigns/mine" in section.group(1))


def test_a_gateway_token_purchase_refuses_is_a_502_page_and_the_gateway_serves_on(
    system: System,
) -> None:
    app = create_app(GatewayConfig(purchase=system.purchase, notify=system.notify,
                                   token="not-the-token", session_secret=SESSION_SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/")
        assert answer.status_code == 502
        assert "refused this gateway's credentials" in html.unescape(answer.text)
        assert client.get("/healthz").status_code == 200
        assert client.get("/login").status_code == 200
