"""The purchase journal of docs/protocol.md over the DocumentStore port.

Pure protocol: no gRPC, no NATS, no exporters. Follow one purchase in ``_buy.py`` (intent,
commit) -> ``_finish.py`` (receipt, debit, advance); ``_settle.py`` and ``_resolver.py`` decide
interrupted ones; ``_posse.py`` is recovery's check of one campaign. Money out: ``_credit.py``
(the seller's shares), ``_withdraw.py``, ``_payout.py`` (the payout state machine),
``_refund.py``, all on the shape of ``_forward.py``; a credit lists its purchases under their
buyers (``_purchases.py``). ``_audit.py``, ``_ledger.py`` and ``_purchase_audit.py`` check
the invariants.
"""

from ._audit import (
    audit,
    check_invariants,
    read_documents,
    read_snapshot,
)
from ._context import (
    STEPS,
    JournalContext,
    Policy,
    Safeguards,
    Timing,
)
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
    fee_of,
    slot_from_json,
)
from ._finish import (
    Finished,
    finish_slot,
)
from ._groups import (
    write_alone,
)
from ._ids import (
    campaign_key,
    credit_key,
    deposit_key,
    filler_key,
    fillers_key,
    invalid_id,
    owned_key,
    purchase_page_key,
    purchases_key,
    receipt_key,
    refund_key,
    slot_key,
    user_key,
    withdrawal_key,
)
from ._index import (
    IndexKind,
    list_entries,
    list_index,
)
from ._journal import (
    Journal,
)
from ._ledger import (
    Books,
    books,
)
from ._money_out import (
    MOVES,
    CreditLock,
    CreditRecord,
    PayoutState,
    RefundLock,
    RefundRecord,
    Withdrawal,
    WithdrawLock,
    idempotency_key_of,
)
from ._outcomes import (
    AccountBusy,
    AlreadyExists,
    Bought,
    BuyOutcome,
    Created,
    CreateOutcome,
    Credited,
    CreditOutcome,
    Deposited,
    DepositOutcome,
    DuplicateDeposit,
    InsufficientFunds,
    Interrupted,
    InvalidInput,
    JournalError,
    LostRace,
    Missing,
    NothingToCredit,
    PriceAboveMax,
    Refunded,
    RefundOutcome,
    Resolution,
    WithdrawalRequested,
    WithdrawOutcome,
    WrongState,
)
from ._posse import (
    Check,
    check_campaign,
)
from ._price import (
    price_at,
    slot_window,
)
from ._purchases import (
    ListedPurchase,
    Purchases,
)
from ._resolver import (
    resolve_account,
)
from ._showing import (
    Showing,
    showing,
)
from ._snapshot import (
    Snapshot,
    Violation,
)
from ._statement import (
    Entry,
)
from ._withdraw import (
    MAX_DESTINATION,
)

__all__ = [
    "MAX_DESTINATION",
    "MAX_FILLER_IMAGE",
    "MAX_FILLER_LINK",
    "MAX_FILLER_TEXT",
    "MAX_MONEY",
    "MAX_SLOT_SECONDS",
    "MOVES",
    "STEPS",
    "AccountBusy",
    "AlreadyExists",
    "Books",
    "Bought",
    "BuyLock",
    "BuyOutcome",
    "Campaign",
    "Check",
    "CreateOutcome",
    "Created",
    "CreditLock",
    "CreditOutcome",
    "CreditRecord",
    "Credited",
    "DepositLock",
    "DepositOutcome",
    "DepositRecord",
    "Deposited",
    "DuplicateDeposit",
    "Entry",
    "Fill",
    "Finished",
    "IndexKind",
    "InsufficientFunds",
    "Interrupted",
    "InvalidInput",
    "Journal",
    "JournalContext",
    "JournalError",
    "ListedPurchase",
    "LostRace",
    "Missing",
    "NothingToCredit",
    "PayoutState",
    "Policy",
    "PriceAboveMax",
    "Purchase",
    "Purchases",
    "Receipt",
    "RefundLock",
    "RefundOutcome",
    "RefundRecord",
    "Refunded",
    "Resolution",
    "Safeguards",
    "Showing",
    "Slot",
    "Snapshot",
    "Timing",
    "User",
    "Violation",
    "Void",
    "WithdrawLock",
    "WithdrawOutcome",
    "Withdrawal",
    "WithdrawalRequested",
    "WrongState",
    "audit",
    "books",
    "campaign_key",
    "check_campaign",
    "check_invariants",
    "credit_key",
    "deposit_key",
    "fee_of",
    "filler_key",
    "fillers_key",
    "finish_slot",
    "idempotency_key_of",
    "invalid_id",
    "list_entries",
    "list_index",
    "owned_key",
    "price_at",
    "purchase_page_key",
    "purchases_key",
    "read_documents",
    "read_snapshot",
    "receipt_key",
    "refund_key",
    "resolve_account",
    "showing",
    "slot_from_json",
    "slot_key",
    "slot_window",
    "user_key",
    "withdrawal_key",
    "write_alone",
]
