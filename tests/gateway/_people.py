"""What a person does in the browser, step by step (Playwright's sync API): each helper
drives the real pages and forms, and waits for the page the form leads to."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery"


def sign_up(page: Page, url: str, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/signup")
    page.fill('input[name="user_id"]', user)
    page.fill('input[name="password"]', password)
    page.fill('input[name="password2"]', password)
    page.click("text=Create my account")
    expect(page).to_have_url(f"{url}/account")


def log_in(page: Page, url: str, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill('input[name="user_id"]', user)
    page.fill('input[name="password"]', password)
    page.click('form[action="/login"] button[type="submit"]')


def log_out(page: Page) -> None:
    page.click("text=Log out")
    expect(page.locator(".notices .notice")).to_have_text("You are logged out.")


def open_campaign(page: Page, url: str, name: str, min_price: int, slot_seconds: int = 60,
                  size: tuple[int, int] | None = None) -> None:
    page.goto(f"{url}/selling")
    page.fill('input[name="campaign_id"]', name)
    page.fill('input[name="min_price"]', str(min_price))
    page.fill('input[name="slot_length"]', str(slot_seconds))
    page.select_option('select[name="slot_unit"]', "seconds")
    if size is not None:
        page.fill('input[name="ad_width"]', str(size[0]))
        page.fill('input[name="ad_height"]', str(size[1]))
    page.click("text=Open the campaign")
    expect(page).to_have_url(f"{url}/campaigns/{name}")


def png(path: Path, size: tuple[int, int] = (120, 60), color: str = "#2452d6") -> Path:
    """A small PNG file, made here."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def upload_ad(page: Page, url: str, filler_id: str, text: str, link: str = "",
              image: Path | None = None) -> None:
    """Fill in and send the upload form (the page it leads to is the caller's to check)."""
    page.goto(f"{url}/account")
    page.fill('input[name="filler_id"]', filler_id)
    page.fill('input[name="text"]', text)
    page.fill('input[name="link"]', link)
    if image is not None:
        page.set_input_files('input[name="image"]', str(image))
    page.click('#upload-ad button[type="submit"]')


def load_buy_form(page: Page, url: str, campaign: str, filler_id: str,
                  max_price: int | None = None) -> None:
    page.goto(f"{url}/campaigns/{campaign}")
    page.select_option('select[name="filler_id"]', filler_id)
    if max_price is not None:
        page.fill('input[name="max_price"]', str(max_price))


def notice(page: Page) -> str:
    """What the page says about the last thing done (one notice after a redirect, or one
    error on the form)."""
    found = page.locator(".notices .notice, .form-error")
    expect(found).to_have_count(1)
    return found.inner_text()


def bought(text: str) -> tuple[int, int] | None:
    """(slot, price) from a "You bought slot N for P." notice."""
    found = re.fullmatch(r"You bought slot (\d+) for (\d+)\.", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def change_password(page: Page, url: str, current: str, new: str) -> None:
    """From the account page, through its link, send the change-password form."""
    page.goto(f"{url}/account")
    page.click("text=Change password")
    page.fill('input[name="current_password"]', current)
    page.fill('input[name="new_password"]', new)
    page.fill('input[name="new_password2"]', new)
    page.click('#change-password button[type="submit"]')
