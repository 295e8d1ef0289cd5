"""``abc demo``: the whole system as real processes, buyers and a watcher over gRPC, chaos
that SIGKILLs purchase processes, recovery replicas and NATS, and at the end the proof:
recovery settled, the quiescent audit, the books, every slot seen once in order.

Start at ``_run.py``; the world is ``_world.py``, the buyers ``_buyers.py`` (with the price
board of ``_market.py``), the gateway ``_watcher.py``, the chaos ``_chaos.py`` (aimed by
``_aim.py``), the posse's repairs ``_repairs.py``, the end ``_settle.py``, ``_finale.py`` and
``_summary.py``."""

from ._chaos import KINDS, Strike, chaos_plan
from ._errors import DemoError
from ._run import DemoConfig, Verdict, run_demo

__all__ = ["KINDS", "DemoConfig", "DemoError", "Strike", "Verdict", "chaos_plan", "run_demo"]
