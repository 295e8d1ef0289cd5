"""The public surfaces: exactly these names, each importable.

A name added to or dropped from a package's ``__all__`` is a change of its contract, so it must
show up here as a deliberate edit.
"""

from __future__ import annotations

import importlib

import pytest

JOURNAL = [
    "AccountBusy", "AlreadyExists", "Bought", "BuyLock", "BuyOutcome", "Campaign", "Check",
    "CreateOutcome", "Created", "DepositLock", "DepositOutcome", "DepositRecord", "Deposited",
    "DuplicateDeposit", "Fill", "Finished", "IndexKind", "InsufficientFunds", "Interrupted",
    "InvalidInput", "Journal", "JournalContext", "JournalError", "LostRace", "MAX_FILLER_IMAGE",
    "MAX_FILLER_LINK", "MAX_FILLER_TEXT", "MAX_MONEY", "MAX_SLOT_SECONDS", "Missing",
    "PriceAboveMax", "Purchase", "Receipt", "Resolution", "STEPS", "Safeguards", "Showing",
    "Slot", "Snapshot", "Timing", "User", "Violation", "Void", "audit", "campaign_key",
    "check_campaign", "check_invariants", "deposit_key", "filler_key", "finish_slot",
    "invalid_id", "list_index", "price_at", "read_documents", "read_snapshot", "receipt_key",
    "resolve_account", "showing", "slot_from_json", "slot_key", "slot_window", "user_key",
]

STORE = [
    "CasMismatch", "CouchbaseSettings", "CouchbaseStore", "DEFAULT_STORE_URL", "DURABILITIES",
    "Document", "DocumentStore", "Exists", "InDoubt", "Json", "MemoryState", "MemoryStore",
    "NotFound", "SqliteStore", "StoreError", "StoreUrlError", "StoreWrapper", "Unavailable",
    "open_store", "sqlite_path",
]

SURFACES = {"services.journal": JOURNAL, "services.store": STORE}


def test_the_pinned_lists_are_sorted_and_distinct() -> None:
    for names in SURFACES.values():
        assert names == sorted(set(names))


@pytest.mark.parametrize("module_name", sorted(SURFACES))
def test_all_is_exactly_the_pinned_names(module_name: str) -> None:
    exported: list[str] = importlib.import_module(module_name).__all__
    assert len(exported) == len(set(exported)), "a name is exported twice"
    assert sorted(exported) == SURFACES[module_name]


@pytest.mark.parametrize("module_name", sorted(SURFACES))
def test_every_exported_name_is_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == [], f"{module_name}.__all__ names what it does not define"
