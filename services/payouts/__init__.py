"""Payout rails: how a withdrawal's money leaves Abc (docs/protocol.md, "Payout"). The port
(``PayoutRail``: an order in, paid / refused / no answer out) and its adapters: ``manual``
(the default: the operator pays by hand) and ``webhook`` (an HTTP POST to the operator's
payment system, idempotent by ``<uid>:<wid>``). The payer that drives them runs in each
recovery replica (``services/recovery/_payer.py``)."""

from ._config import RAILS, PayoutConfig, PayoutConfigError, make_rail
from ._rail import ManualRail, NoAnswer, Paid, PayoutOrder, PayoutRail, RailAnswer, Refused
from ._webhook import WebhookConfigError, WebhookRail, answer_of

__all__ = [
    "RAILS",
    "ManualRail",
    "NoAnswer",
    "Paid",
    "PayoutConfig",
    "PayoutConfigError",
    "PayoutOrder",
    "PayoutRail",
    "RailAnswer",
    "Refused",
    "WebhookConfigError",
    "WebhookRail",
    "answer_of",
    "make_rail",
]
