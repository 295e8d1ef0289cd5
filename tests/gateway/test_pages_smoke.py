"""Smoke: the system comes up and the gateway's pages answer."""

from __future__ import annotations

import httpx

from ._system import System


def test_the_campaigns_page_answers(system: System) -> None:
    answer = httpx.get(system.url + "/", timeout=10)
    assert answer.status_code == 200, answer.text
    assert "Campaigns" in answer.text
