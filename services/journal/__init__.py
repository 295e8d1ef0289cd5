"""The purchase journal of PROTOCOL.md over the DocumentStore port.

Pure protocol: no gRPC, no NATS, no exporters. Follow one purchase in ``_buy.py`` (intent,
commit) -> ``_finish.py`` (receipt, debit, advance); ``_settle.py`` and ``_resolver.py`` decide
interrupted ones; ``_posse.py`` is recovery's check of one campaign; ``_audit.py`` the invariants.
"""

from ._audit import Snapshot, Violation, audit, check_invariants, read_documents
from ._documents import (
    MAX_FILLER_IMAGE,
    MAX_FILLER_LINK,
    MAX_FILLER_TEXT,
    MAX_MONEY,
    MAX_SLOT_SECONDS,
    BuyLock,
    Campaign,
    DepositLock,
    DepositRecord,
    Fill,
    Purchase,
    Receipt,
    Slot,
    User,
    Void,
)
from ._finish import Finished, finish_slot
from ._ids import (
    campaign_key,
    deposit_key,
    filler_key,
    receipt_key,
    slot_key,
    user_key,
)
from ._index import IndexKind, list_index
from ._journal import Journal
from ._outcomes import (
    AccountBusy,
    AlreadyExists,
    Bought,
    BuyOutcome,
    Created,
    CreateOutcome,
    Deposited,
    DepositOutcome,
    DuplicateDeposit,
    InsufficientFunds,
    Interrupted,
    InvalidInput,
    JournalError,
    LostRace,
    Missing,
    PriceAboveMax,
    Resolution,
)
from ._posse import Check, check_campaign
from ._price import price_at, slot_window
from ._resolver import resolve_account
from ._runtime import STEPS, Runtime, Safeguards, Timing
from ._showing import Showing, showing

__all__ = [
    "MAX_FILLER_IMAGE",
    "MAX_FILLER_LINK",
    "MAX_FILLER_TEXT",
    "MAX_MONEY",
    "MAX_SLOT_SECONDS",
    "STEPS",
    "AccountBusy",
    "AlreadyExists",
    "Bought",
    "BuyLock",
    "BuyOutcome",
    "Campaign",
    "Check",
    "CreateOutcome",
    "Created",
    "DepositLock",
    "DepositOutcome",
    "DepositRecord",
    "Deposited",
    "DuplicateDeposit",
    "Fill",
    "Finished",
    "IndexKind",
    "InsufficientFunds",
    "Interrupted",
    "InvalidInput",
    "Journal",
    "JournalError",
    "LostRace",
    "Missing",
    "PriceAboveMax",
    "Purchase",
    "Receipt",
    "Resolution",
    "Runtime",
    "Safeguards",
    "Showing",
    "Slot",
    "Snapshot",
    "Timing",
    "User",
    "Violation",
    "Void",
    "audit",
    "campaign_key",
    "check_campaign",
    "check_invariants",
    "deposit_key",
    "filler_key",
    "finish_slot",
    "list_index",
    "price_at",
    "read_documents",
    "receipt_key",
    "resolve_account",
    "showing",
    "slot_key",
    "slot_window",
    "user_key",
]
