"""NATS subjects: ``abc.campaign.<cid>.fill``; ids can't hold '.', '*' or '>'."""

from __future__ import annotations

FILL_WILDCARD = "abc.campaign.*.fill"


def fill_subject(cid: str) -> str:
    return f"abc.campaign.{cid}.fill"
