"""Ids and the keys built from them. An id matches ``[A-Za-z0-9_-]{1,64}``, so no id can hold
the ``:`` that separates a key's parts and no key can be forged from an id."""

from __future__ import annotations

import re

from ._outcomes import InvalidInput, Rejected

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_id(field: str, value: object) -> str:
    """The id itself, or Rejected(InvalidInput) naming the field."""
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise Rejected(InvalidInput(field, "must be 1 to 64 of A-Z a-z 0-9 _ -"))
    return value


def invalid_id(field: str, value: object) -> InvalidInput | None:
    """What is wrong with ``value`` as an id, or None if nothing is."""
    try:
        check_id(field, value)
    except Rejected as rejected:
        assert isinstance(rejected.outcome, InvalidInput)
        return rejected.outcome
    return None


def check_amount(field: str, value: object, low: int, high: int) -> int:
    """An integer in ``[low, high]`` (never a float, never a bool)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Rejected(InvalidInput(field, f"must be an integer from {low} to {high}"))
    return value


def user_key(uid: str) -> str:
    return f"user:{uid}"


def credential_key(uid: str) -> str:
    """``uid``'s password hash and failure count: apart from the hot user document."""
    return f"credential:{uid}"


def campaign_key(cid: str) -> str:
    return f"campaign:{cid}"


def slot_key(cid: str, n: int) -> str:
    return f"slot:{cid}:{n}"


def receipt_key(cid: str, n: int) -> str:
    return f"txn:{cid}:{n}"


def deposit_key(uid: str, deposit_id: str) -> str:
    return f"deposit:{uid}:{deposit_id}"


def filler_key(uid: str, fid: str) -> str:
    return f"filler:{uid}:{fid}"


def credit_key(cid: str, first: int) -> str:
    """The credit of the run of ``cid``'s slots that starts at ``first``."""
    return f"credit:{cid}:{first}"


def withdrawal_key(uid: str, wid: str) -> str:
    return f"withdrawal:{uid}:{wid}"


def refund_key(uid: str, wid: str) -> str:
    return f"refund:{uid}:{wid}"


def owned_key(uid: str) -> str:
    """The list of the campaigns ``uid`` owns."""
    return f"owned:{uid}"


def fillers_key(uid: str) -> str:
    """The list of the fillers ``uid`` uploaded (those uploaded since the list was added)."""
    return f"fillers:{uid}"


def purchases_key(uid: str) -> str:
    """The head of ``uid``'s purchase list: its newest page, the one still filling."""
    return f"purchases:{uid}"


def purchase_page_key(uid: str, page: int) -> str:
    """Page ``page`` of ``uid``'s purchase list, sealed: full, never written again."""
    return f"purchases:{uid}:{page}"
