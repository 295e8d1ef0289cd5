"""Every package's public surface: exactly these names, each importable.

A name added to or dropped from a package's ``__all__`` is a change of its contract, so it must
show up here as a deliberate edit; so must a new package with an ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "services"

SURFACES: dict[str, list[str]] = {
    "services.cli": [
        "main",
    ],
    "services.events": [
        "EventPublisher", "FILL_WILDCARD", "HEAD_WILDCARD", "fill_subject", "head_subject",
    ],
    "services.journal": [
        "AccountBusy", "AdImage", "AdSizeMismatch", "AlreadyExists", "BadCredentials", "Books",
        "Bought", "BuyLock", "BuyOutcome",
        "Campaign", "Check", "CreateOutcome", "Created", "CreditLock", "CreditOutcome",
        "CreditRecord", "Credited", "DepositLock", "DepositOutcome", "DepositRecord",
        "Deposited", "DuplicateDeposit", "Entry", "Fill", "Filler", "Finished", "IndexKind",
        "InsufficientFunds", "Interrupted", "InvalidImage", "InvalidInput", "Journal",
        "JournalContext",
        "JournalError", "ListedPurchase", "LostRace", "MAX_AD_SIDE", "MAX_DECODED_PIXELS",
        "MAX_DESTINATION", "MAX_FILLER_IMAGE",
        "MAX_FILLER_LINK", "MAX_FILLER_TEXT", "MAX_FRAMES", "MAX_MONEY", "MAX_PASSWORD",
        "MAX_PIXELS", "MAX_SLOT_SECONDS", "MEDIA_TYPES", "MIN_PASSWORD", "MOVES",
        "Missing", "NothingToCredit", "PasswordSet", "PayoutState", "Policy", "PriceAboveMax",
        "Purchase", "Purchases",
        "Receipt", "RefundLock", "RefundOutcome", "RefundRecord", "Refunded", "Resolution",
        "STEPS", "Safeguards", "Showing", "Slot", "Snapshot", "Throttled", "Timing", "User",
        "Violation",
        "Void", "WithdrawLock", "WithdrawOutcome", "Withdrawal", "WithdrawalRequested",
        "WrongState", "audit", "books", "campaign_key", "check_campaign",
        "check_invariants", "credential_key", "credit_key", "deposit_key", "fee_of", "filler_key",
        "fillers_key", "finish_slot", "idempotency_key_of", "invalid_id", "list_entries",
        "list_index", "owned_key", "price_at", "purchase_page_key", "purchases_key",
        "read_documents", "read_image", "read_snapshot", "receipt_key",
        "refund_key", "resolve_account", "showing", "slot_from_json", "slot_key",
        "slot_window", "user_key", "withdrawal_key", "write_alone",
    ],
    "services.lab.cluster": [
        "Child", "Cluster", "ClusterError", "Layout", "NatsServer", "NatsServerError",
        "StartAborted", "clean_env", "free_port", "http_serving", "in_use", "nats_server_binary",
        "running", "serving",
    ],
    "services.lab.demo": [
        "DemoConfig", "DemoError", "KINDS", "Strike", "Verdict", "chaos_plan", "run_demo",
    ],
    "services.lab.loadgen": [
        "CountingStore", "LoadStats", "MAX_PRICE", "OP_KINDS", "ProgressCallback",
        "SetupError", "World", "YieldingStore", "accounts_of", "audit_url", "balance_for",
        "campaign_id", "nearest_rank", "run_buyers", "set_up", "user_id", "warped_context",
    ],
    "services.lab.payments": [
        "Mood", "PaymentSystem", "payment_system",
    ],
    "services.lab.sim": [
        "CRASH_POINTS", "Faults", "NO_FAULTS", "Scheduler", "SeedResult", "TraceLine",
        "UNREACHABLE", "missing_points", "run_seed",
    ],
    "services.messages": [
        "DOMAIN", "Refusal", "abort", "campaign_message", "campaign_of", "exists",
        "fill_event", "filled_slot", "filler_message", "invalid", "missing", "price_curve",
        "purchase_message", "purchase_of", "store_failed",
    ],
    "services.notify": [
        "Feed", "FellBehind", "HEAD_GRACE_MS", "Hub", "MAX_CAMPAIGNS", "NotifyConfig",
        "NotifyNode", "NotifyServicer", "SERVICE_NAME", "Watcher", "start_notify",
    ],
    "services.payouts": [
        "ManualRail", "NoAnswer", "Paid", "PayoutConfig", "PayoutConfigError",
        "PayoutOrder", "PayoutRail", "RAILS", "RailAnswer", "Refused", "WebhookConfigError",
        "WebhookRail", "answer_of", "make_rail",
    ],
    "services.purchase": [
        "OPERATOR_ONLY", "PurchaseConfig", "PurchaseNode", "PurchaseServicer",
        "SERVICE_NAME", "purchase_event_loop", "start_purchase",
    ],
    "services.recovery": [
        "Backoff", "CREDIT_INTERVAL_MS", "CreditPacer", "MAX_INTERVAL_S", "ORDINAL",
        "OrdinalShard", "PAYER_PREFIX", "Payer", "PayerCounters", "RECOVERY_PORT_BASE",
        "REPLICAS", "RandomDuty", "RecoveryConfig", "RecoveryConfigError", "RecoveryNode",
        "RecoveryServicer", "RepairRecord", "Replica", "RoundRobin", "SCHEDULE",
        "SCHEDULES", "SERVICE_NAME", "STATUS_REPLICAS", "Schedule", "TICK_MS", "due",
        "make_schedule", "ordinal_from_hostname", "recovery_listen",
        "resolve_locked_accounts", "start_recovery",
    ],
    "services.gateway": ["GATEWAY_SETTINGS", "GatewayConfig", "create_app", "setup_tracing"],
    "services.settings": ["ConfigError", "Environ", "Setting", "overlaid"],
    "services.runtime": [
        "ALLOW_PLAINTEXT", "AuthInterceptor", "ClientTracing", "ConfigError", "Durations",
        "Environ",
        "FAULT_ENV", "FAULT_EXIT_CODE", "FaultConfigError", "LOG_LEVEL", "NATS_URL",
        "NOTIFY_LISTEN", "NatsLink", "PAYOUT_SETTINGS", "PURCHASE_LISTEN", "Role",
        "STORE_URL", "Served", "ServerConfig", "ServerConfigError", "ServerTracing",
        "Setting", "TLS_CERT", "TLS_KEY", "TOKENS", "TOKENS_FILE", "Telemetry",
        "TokenError", "Tokens", "TracedStore", "bearer", "context_of", "current_carrier",
        "current_context_carrier", "current_span", "fault_switch",
        "is_loopback", "listen_setting", "overlaid", "serve", "setup_logging",
        "setup_telemetry", "span_context_of", "stop_on_signals",
    ],
    "services.store": [
        "CasMismatch", "CouchbaseSettings", "CouchbaseStore", "DEFAULT_STORE_URL",
        "DURABILITIES", "Document", "DocumentStore", "Exists", "InDoubt", "Json",
        "MemoryState", "MemoryStore", "NotFound", "SqliteStore", "StoreError",
        "StoreUrlError", "StoreWrapper", "Unavailable", "open_store", "sqlite_path",
    ],
    "services.wiring": [
        "POLICY_SETTINGS", "ServiceNode", "Wiring", "policy_from_env", "serve_wired", "wire",
    ],
}


def _assigns_all(init: Path) -> bool:
    for node in ast.parse(init.read_text(), str(init)).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            return True
    return False


def _declaring_all() -> list[str]:
    """Every package under services/ whose ``__init__.py`` assigns ``__all__`` (read, not
    imported: a package nobody imports still counts)."""
    return sorted(".".join(init.parent.relative_to(SERVICES.parent).parts)
                  for init in SERVICES.rglob("__init__.py") if _assigns_all(init))


def test_every_package_with_an_all_is_pinned() -> None:
    assert _declaring_all() == sorted(SURFACES)


def test_the_pinned_lists_are_sorted_and_distinct() -> None:
    for module_name, names in SURFACES.items():
        assert names == sorted(set(names)), module_name


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
