"""People in a real browser (Debian's chromium through Playwright) against a whole system of
real processes: a seller opens a campaign, a buyer signs up, is funded, uploads an ad and
buys; two buyers race for one slot; an ad with a script and a ``javascript:`` link stays inert
text; logging out ends the session; a form without its CSRF token is refused.

One system and one browser for the module; each person is a browser context of their own
(their own cookies), each test its own users and campaigns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from services.journal import filler_key
from services.store import open_store
from tests._support.world import store_url

from ._people import (
    bought,
    load_buy_form,
    log_in,
    log_out,
    notice,
    open_campaign,
    png,
    sign_up,
    upload_ad,
)
from ._system import System

TIMEOUT_MS = 10_000


@pytest.fixture
def person(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context: one person, signed out."""
    context = _context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_a_seller_opens_a_campaign_and_a_buyer_buys_a_slot_with_an_ad(
    system: System, browser: Browser, tmp_path: Path,
) -> None:
    seller, buyer = _context(browser).new_page(), _context(browser).new_page()
    sign_up(seller, system.url, "sam")
    open_campaign(seller, system.url, "spring", min_price=25)
    assert notice(seller) == "Your campaign spring is open."
    expect(seller.locator("#price")).to_have_text("25")
    expect(seller.locator("#current-ad")).to_contain_text("Nothing is showing")

    sign_up(buyer, system.url, "bea")
    assert system.deposit("bea", 1000, "d-bea") == 1000
    upload_ad(buyer, system.url, "kites", "Kites for everyone", "https://kites.example",
              png(tmp_path / "kite.png"))
    assert notice(buyer) == "Your ad kites is uploaded."
    ad = buyer.locator("#ads .ad-item .ad")
    expect(ad.locator(".ad-text")).to_have_text("Kites for everyone")
    expect(ad.locator("a.ad-link")).to_have_attribute("href", "https://kites.example")
    _expect_image_shown(buyer, system.url, ad.locator("img"), (120, 60))

    load_buy_form(buyer, system.url, "spring", "kites")
    expect(buyer.locator('input[name="max_price"]')).to_have_value("25")
    buyer.click("text=Buy slot 1")
    assert bought(notice(buyer)) == (1, 25)
    expect(buyer.locator("#current-ad .ad-text")).to_have_text("Kites for everyone")
    expect(buyer.locator("#price")).to_have_text("50")  # doubled, then falling over a minute
    expect(buyer.locator("#recent-slots tbody tr")).to_have_count(1)
    expect(buyer.locator("#recent-slots tbody tr")).to_contain_text("bea")

    buyer.goto(f"{system.url}/account")
    expect(buyer.locator("#balance")).to_have_text("975")
    seller.reload()  # (live updates without a reload are the live script's, tested there)
    expect(seller.locator("#recent-slots tbody tr")).to_contain_text("kites")
    expect(seller.locator("#current-ad .ad-text")).to_have_text("Kites for everyone")


def _expect_image_shown(page: Page, url: str, image: Locator, size: tuple[int, int]) -> None:
    """The <img> loaded from the gateway and decoded at its size (not a broken image), served
    with its content type and nosniff."""
    src = image.get_attribute("src") or ""
    assert src.startswith("/ads/") and src.endswith("/image"), src
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    assert tuple(image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")) == size
    answer = page.request.get(url + src)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "image/png"


def test_two_buyers_race_for_one_slot_and_the_loser_is_told(
    system: System, browser: Browser,
) -> None:
    owner = _context(browser).new_page()
    sign_up(owner, system.url, "olga")
    open_campaign(owner, system.url, "race", min_price=40)
    racers = [_context(browser).new_page() for _ in range(2)]
    for i, page in enumerate(racers):
        name = f"racer{i}"
        sign_up(page, system.url, name)
        system.deposit(name, 1000, f"d-{name}")
        load_buy_form(page, system.url, "race", "")  # no ad; the form offers price 40
        expect(page.locator('input[name="max_price"]')).to_have_value("40")
    # Both press Buy at once (each page clicks on its own, queued without waiting): each
    # form asks for the next slot at 40 at most.
    for page in racers:
        page.evaluate("() => setTimeout(() => document.querySelector('.buy-button').click(), 0)")
    for page in racers:
        expect(page.locator(".notices .notice, .form-error")).to_have_count(1)
    said = [notice(page) for page in racers]
    winners = [text for text in said if bought(text) is not None]
    assert [bought(text) for text in winners] == [(1, 40)], said
    loser = next(text for text in said if bought(text) is None)
    assert loser in ("Someone else bought slot 1 first. The price is now 80.",
                     "The price is now 80, above your maximum."), said
    loser_page = racers[said.index(loser)]
    expect(loser_page.locator('input[name="max_price"]')).to_have_value("80")
    expect(loser_page.locator("#price")).to_have_text("80")


def _plant_filler(system: System, user: str, fid: str, copy_of: str, text: str,
                  link: str) -> None:
    """A filler whose link purchase would refuse, written straight to the store as a copy of
    ``copy_of``'s document (what an older version, or a bug, may have left there)."""

    async def plant() -> None:
        store = await open_store(store_url(system.logs))
        try:
            original = await store.get(filler_key(user, copy_of))
            value = dict(original.value)
            await store.insert(filler_key(user, fid), {**value, "text": text, "link": link})
        finally:
            await store.close()

    # Playwright's sync API runs an event loop on this thread: the store gets one of its own.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, plant()).result()


SCRIPT_TEXT = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def test_an_ad_with_a_script_and_a_javascript_link_is_inert_text(
    system: System, person: Page,
) -> None:
    sign_up(person, system.url, "mallory")
    system.deposit("mallory", 1000, "d-mallory")
    upload_ad(person, system.url, "evil", SCRIPT_TEXT, "javascript:alert(1)")
    said = notice(person)
    assert said.startswith("Link: ") and "http" in said  # purchase refused the link
    expect(person.locator('input[name="text"]')).to_have_value(SCRIPT_TEXT)  # kept to fix

    upload_ad(person, system.url, "plain", SCRIPT_TEXT, "https://fine.example")
    assert notice(person) == "Your ad plain is uploaded."
    _plant_filler(system, "mallory", "evil", "plain", SCRIPT_TEXT, "javascript:alert(1)")

    open_campaign(person, system.url, "inert", min_price=5)
    load_buy_form(person, system.url, "inert", "plain")
    person.goto(f"{system.url}/campaigns/inert")
    # The planted filler is not in the per-user list, so choose it by value in the form.
    person.evaluate("""() => { const o = document.createElement('option');
                        o.value = 'evil'; o.textContent = 'evil';
                        document.querySelector('select[name=filler_id]').append(o); }""")
    person.select_option('select[name="filler_id"]', "evil")
    person.click("text=Buy slot 1")
    assert bought(notice(person)) == (1, 5)
    ad = person.locator("#current-ad .ad")
    expect(ad.locator(".ad-text")).to_have_text(SCRIPT_TEXT)
    expect(ad.locator(".ad-link.inert")).to_have_text("javascript:alert(1)")
    assert person.locator("#current-ad a").count() == 0
    assert person.locator("#current-ad script, #current-ad img").count() == 0
    assert person.evaluate("() => window.pwned") is None
    person.goto(f"{system.url}/account")
    expect(person.locator("#ads .ad-item .ad-text").first).to_have_text(SCRIPT_TEXT)
    assert person.evaluate("() => window.pwned") is None


def test_logging_out_ends_the_session_and_logging_in_takes_the_password(
    system: System, person: Page,
) -> None:
    sign_up(person, system.url, "leo")
    expect(person.locator("header")).to_contain_text("leo")
    log_out(person)
    expect(person.locator("header")).not_to_contain_text("leo")
    person.goto(f"{system.url}/account")
    expect(person).to_have_url(f"{system.url}/login?next=/account")
    log_in(person, system.url, "leo", "not leo's password")
    assert notice(person) == "Wrong user name or password."
    log_in(person, system.url, "leo")
    expect(person).to_have_url(f"{system.url}/account")
    expect(person.locator("header")).to_contain_text("leo")


def test_a_form_sent_without_its_csrf_token_is_refused(system: System, person: Page) -> None:
    sign_up(person, system.url, "cora")
    person.goto(f"{system.url}/selling")
    person.evaluate("() => document.querySelectorAll('input[name=csrf]')"
                    ".forEach((field) => field.remove())")
    person.fill('input[name="campaign_id"]', "forged")
    person.fill('input[name="min_price"]', "10")
    with person.expect_navigation():
        person.click("text=Open the campaign")
    expect(person.locator("h1")).to_have_text("Refused")
    person.goto(f"{system.url}/campaigns/forged")
    expect(person.locator("h1")).to_have_text("Not found")  # nothing was created


def test_every_page_fits_a_phones_width(system: System, browser: Browser) -> None:
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                has_touch=True)
    phone.set_default_timeout(TIMEOUT_MS)
    page = phone.new_page()
    try:
        sign_up(page, system.url, "pat")
        open_campaign(page, system.url, "pocket-size-campaign-name", min_price=12345)
        system.deposit("pat", 100_000, "d-pat")
        load_buy_form(page, system.url, "pocket-size-campaign-name", "")
        page.click(".buy-button")
        assert bought(notice(page)) == (1, 12345)
        for path in ("/", "/campaigns/pocket-size-campaign-name", "/account", "/selling",
                     "/login", "/signup", "/campaigns/nope"):
            page.goto(system.url + path)
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert width == [360, 360], path  # laid out at the phone's width, nothing wider
    finally:
        phone.close()
