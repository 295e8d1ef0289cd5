"""Screenshots of the gateway's main pages for the README: ``python -m tests.gateway.screenshots``
(from the checkout, with the dev extra installed and Debian's chromium at /usr/bin/chromium).

It starts a whole system of real processes in a temporary folder (as the tests do), makes a
seller with campaigns and buyers with ads and purchases through the pages themselves, and saves
PNGs of the campaigns list, a campaign, an account, selling, and a campaign at a phone's width
into ``docs/screenshots/`` (``--out`` to choose)."""

from __future__ import annotations

import argparse
import io
import re
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests._support.waiting import wait_for

from ._people import load_buy_form, open_campaign, sign_up, upload_ad
from ._system import System, running_system

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
DESKTOP = ViewportSize(width=1200, height=900)
PHONE = ViewportSize(width=390, height=844)


def banner(path: Path, size: tuple[int, int], colors: tuple[str, str], words: str) -> Path:
    """An ad image: two colour bands and a few words (Pillow's own font)."""
    image = Image.new("RGB", size, colors[0])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill=colors[1])
    draw.text((16, size[1] // 6), words, fill="white", font_size=size[1] * 2 // 5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def buy(page: Page, url: str, campaign: str, filler: str) -> None:
    load_buy_form(page, url, campaign, filler)
    page.click(".buy-button")
    page.wait_for_selector(".notices .notice, .form-error")


def populate(system: System, browser: Browser, images: Path) -> dict[str, Page]:
    """A seller with three campaigns, two buyers with ads and purchases; the pages."""
    people = {name: browser.new_context(viewport=DESKTOP).new_page()
              for name in ("acme", "bea", "cal")}
    url = system.url
    sign_up(people["acme"], url, "acme")
    open_campaign(people["acme"], url, "spring-kites", 120, 3600, (468, 60))
    open_campaign(people["acme"], url, "harbor-news", 40, 600)
    open_campaign(people["acme"], url, "night-owl", 15, 60)
    ads = {"bea": [("kites", "Kites for every wind: 20% off this spring",
                    "https://kites.example/spring", (468, 60), ("#2452d6", "#f5a623"),
                    "KITES  -20%")],
           "cal": [("bakery", "Fresh sourdough at the harbor, every morning from 7",
                    "https://bakery.example", (300, 100), ("#8a4b2a", "#e9c46a"),
                    "Sourdough")]}
    for name in ("bea", "cal"):
        sign_up(people[name], url, name)
        system.deposit(name, 50_000, f"d-{name}")
        for fid, text, link, size, colors, words in ads[name]:
            upload_ad(people[name], url, fid, text, link,
                      banner(images / f"{fid}.png", size, colors, words))
    upload_ad(people["bea"], url, "plain", "Plain words, no picture", "https://words.example")
    buy(people["cal"], url, "harbor-news", "bakery")
    buy(people["bea"], url, "harbor-news", "plain")
    buy(people["bea"], url, "spring-kites", "kites")
    buy(people["cal"], url, "night-owl", "bakery")
    return people


def earned(page: Page, url: str) -> bool:
    page.goto(f"{url}/selling")
    found = re.search(r'id="earned">(\d+)<', page.content())
    return found is not None and int(found.group(1)) > 0


def shoot(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, running_system(Path(scratch)) as system, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        people = populate(system, browser, Path(scratch))
        url, acme, bea = system.url, people["acme"], people["bea"]
        wait_for(lambda: earned(acme, url) or None, "acme's sales credited", 30)
        acme.fill('input[name="amount"]', "100")
        acme.fill('input[name="destination"]', "NL91ABNA0417164300")
        acme.click("#withdrawals button[type=submit]")
        acme.wait_for_selector(".notices .notice")
        shots = {"campaigns.png": (bea, "/"), "campaign.png": (bea, "/campaigns/spring-kites"),
                 "account.png": (bea, "/account"), "selling.png": (acme, "/selling")}
        saved = []
        for name, (page, path) in shots.items():
            page.goto(url + path)
            time.sleep(0.3)  # images decoded
            page.screenshot(path=str(out / name), full_page=True)
            saved.append(out / name)
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                    device_scale_factor=2).new_page()
        phone.goto(f"{url}/campaigns/harbor-news")
        time.sleep(0.3)
        phone.screenshot(path=str(out / "campaign-phone.png"), full_page=True)
        saved.append(out / "campaign-phone.png")
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    for path in shoot(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
