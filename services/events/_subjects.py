"""NATS subjects: ``abc.campaign.<cid>.fill`` and ``abc.campaign.<cid>.head``; ids can't hold
'.', '*' or '>'."""

from __future__ import annotations

FILL_WILDCARD = "abc.campaign.*.fill"
HEAD_WILDCARD = "abc.campaign.*.head"


def fill_subject(cid: str) -> str:
    return f"abc.campaign.{cid}.fill"


def head_subject(cid: str) -> str:
    return f"abc.campaign.{cid}.head"
