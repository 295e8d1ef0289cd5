"""A workload over the purchase journal: a fresh world (``set_up``) and concurrent buyers
(``run_buyers``) with their stats (percentiles by ``nearest_rank``); store wrappers to count
and interleave operations. Used by ``abc load``, ``abc demo`` and the benchmarks."""

from ._audit import audit_url
from ._buyers import LoadStats, ProgressCallback, accounts_of, run_buyers
from ._clock import warped_context
from ._percentiles import nearest_rank
from ._stores import OP_KINDS, CountingStore, YieldingStore
from ._world import MAX_PRICE, SetupError, World, balance_for, campaign_id, set_up, user_id

__all__ = [
    "MAX_PRICE",
    "OP_KINDS",
    "CountingStore",
    "LoadStats",
    "ProgressCallback",
    "SetupError",
    "World",
    "YieldingStore",
    "accounts_of",
    "audit_url",
    "balance_for",
    "campaign_id",
    "nearest_rank",
    "run_buyers",
    "set_up",
    "user_id",
    "warped_context",
]
