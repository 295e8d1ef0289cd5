"""Changing one's password on the gateway (``ChangePassword``) against a whole system of real
processes: in chromium (change it, log out, the old one fails, the new one works), and over
plain HTTP the refusals in words (a wrong current password, two new ones that differ, one
outside 8 to 256 characters, the account's throttle with its wait), none of which changes
anything, and the page is for a signed-in person only."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ._http import PASSWORD, Visitor
from ._people import change_password, log_in, log_out, notice, sign_up
from ._system import System

NEW_PASSWORD = "a new one, quite long"
CHANGED = "Your password is changed. Use the new one next time you log in."


@pytest.fixture
def person(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _form_error(answer: httpx.Response) -> str:
    found = re.findall(r'class="notice error form-error"[^>]*>([^<]*)<', answer.text)
    assert len(found) == 1, answer.text
    return html.unescape(found[0])


def test_a_changed_password_is_the_one_that_logs_in(system: System, person: Page) -> None:
    sign_up(person, system.url, "cleo")
    change_password(person, system.url, PASSWORD, NEW_PASSWORD)
    expect(person).to_have_url(f"{system.url}/account")
    assert notice(person) == CHANGED
    log_out(person)
    log_in(person, system.url, "cleo", PASSWORD)
    assert notice(person) == "Wrong user name or password."
    expect(person.locator("header")).not_to_contain_text("cleo")
    log_in(person, system.url, "cleo", NEW_PASSWORD)
    expect(person).to_have_url(f"{system.url}/account")
    expect(person.locator("header")).to_contain_text("cleo")


def test_a_wrong_current_password_is_said_on_the_form(system: System, person: Page) -> None:
    sign_up(person, system.url, "hugo")
    change_password(person, system.url, "not hugo's password", NEW_PASSWORD)
    expect(person).to_have_url(f"{system.url}/account/password")
    assert notice(person) == "Your current password is wrong."
    expect(person.locator("h1")).to_have_text("Change password")


def test_refusals_are_said_in_words_and_change_nothing(system: System) -> None:
    with Visitor(system.url, "192.0.2.10") as dora:
        dora.sign_up("dora")
        cases = [
            (("wrong current password", NEW_PASSWORD, None), 401,
             "Your current password is wrong."),
            ((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!"), 400,
             "The two new passwords differ."),
            ((PASSWORD, "short", None), 400, "New password: Must be 8 to 256 characters."),
            ((PASSWORD, "x" * 257, None), 400, "New password: Must be 8 to 256 characters."),
            (("tiny", NEW_PASSWORD, None), 400,
             "Current password: Must be 8 to 256 characters."),
        ]
        for (current, new, again), status, said in cases:
            answer = dora.change_password(current, new, again)
            assert (answer.status_code, _form_error(answer)) == (status, said), (current, new)
        assert dora.post("/logout", {}, page="/account").status_code == 303
        assert dora.log_in("dora", NEW_PASSWORD).status_code == 401
        assert dora.log_in("dora").headers.get("location") == "/account"  # still the old one


def test_repeated_wrong_passwords_are_throttled_with_the_wait(system: System) -> None:
    """Purchase throttles the account after 5 failures in a row: the form says how long to
    wait, from the RetryInfo (README, "Passwords (for gateways)")."""
    with Visitor(system.url, "192.0.2.11") as ezio:
        ezio.sign_up("ezio")
        answers = []
        for _ in range(8):  # bounded: each failure past the fifth at least doubles the wait
            answer = ezio.change_password("a wrong guess", NEW_PASSWORD)
            answers.append(answer.status_code)
            if answer.status_code == 429:
                break
        assert answers[:5] == [401] * 5 and answers[-1] == 429, answers
        said = _form_error(answer)
        found = re.fullmatch(r"Too many failed attempts for this account\. Try again in (\d+) s\.",
                             said)
        assert found is not None and 1 <= int(found.group(1)) <= 300, said


def test_the_password_page_is_for_a_signed_in_person(system: System) -> None:
    with Visitor(system.url, "192.0.2.12") as nobody:
        answer = nobody.get("/account/password")
        assert (answer.status_code, answer.headers["location"]) == (
            303, "/login?next=/account/password")
        answer = nobody.post("/account/password", {  # the session's token, but no user
            "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD}, page="/login")
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")
        nobody.sign_up("gus")
        assert 'href="/account/password"' in nobody.get("/account").text
        page = nobody.get("/account/password")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
