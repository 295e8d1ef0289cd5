"""The settings every Abc service reads: each ``ABC_*`` variable declared once as a
``Setting`` (``services.settings``) with its default and help."""

from __future__ import annotations

from services.settings import ConfigError, Environ, Setting, overlaid
from services.store import DEFAULT_STORE_URL

__all__ = ["ConfigError", "Environ", "Setting", "overlaid"]


STORE_URL = Setting("ABC_STORE_URL", DEFAULT_STORE_URL,
                    "the document store: memory://, sqlite:///relative/path.db, "
                    "sqlite:////absolute/path.db or couchbase://host/bucket")
NATS_URL = Setting("ABC_NATS_URL", None, "NATS server for fill events, e.g. "
                   "nats://127.0.0.1:4222 (none: events are not published)")
TOKENS = Setting("ABC_TOKENS", None, "bearer tokens, e.g. gateway:s3cret,operator:t0p")
TOKENS_FILE = Setting("ABC_TOKENS_FILE", None, "tokens, one role:token a line")
TLS_CERT = Setting("ABC_TLS_CERT", None, "TLS certificate chain (PEM)")
TLS_KEY = Setting("ABC_TLS_KEY", None, "TLS private key (PEM)")
ALLOW_PLAINTEXT = Setting("ABC_ALLOW_PLAINTEXT", None,
                          "set to 1 to serve a non-loopback address without TLS, e.g. behind "
                          "an encrypting mesh; tokens are still needed")
LOG_LEVEL = Setting("ABC_LOG_LEVEL", "INFO", "log level: DEBUG, INFO, WARNING or ERROR")


PURCHASE_LISTEN = "127.0.0.1:50051"  # where each service listens by default on one machine
NOTIFY_LISTEN = "127.0.0.1:50052"


def listen_setting(service: str, default: str) -> Setting:
    """``ABC_<SERVICE>_LISTEN``: where ``service`` serves."""
    return Setting(f"ABC_{service.upper()}_LISTEN", default,
                   "address to serve, host:port (port 0: a free one)")


PAYOUT_RAIL = Setting("ABC_PAYOUT_RAIL", "manual",
                      "how withdrawals are paid: manual (they wait in 'requested' for the "
                      "operator) or webhook (POSTed to ABC_PAYOUT_WEBHOOK_URL by the recovery "
                      "replicas' payers)")
PAYOUT_WEBHOOK_URL = Setting("ABC_PAYOUT_WEBHOOK_URL", None,
                             "the operator's payment system, http(s)://host[:port]/path: one "
                             "POST per payout, with header Idempotency-Key: <user>:<withdrawal> "
                             "(:<n> added for the n-th try)")
PAYOUT_TIMEOUT_MS = Setting("ABC_PAYOUT_TIMEOUT_MS", "5000",
                            "how long a payout call may take, 100 to 120000 ms; no answer by "
                            "then leaves the withdrawal paying, retried later with the same key")
PAYOUT_LEASE_MS = Setting("ABC_PAYOUT_LEASE_MS", "30000",
                          "how old a payer's claim (or an unclaimed request) may grow before "
                          "any replica drives it, 1000 to 3600000 ms")


PAYOUT_SETTINGS = (PAYOUT_RAIL, PAYOUT_WEBHOOK_URL, PAYOUT_TIMEOUT_MS, PAYOUT_LEASE_MS)
"""What a recovery replica's payer reads (services.payouts)."""
