"""The deterministic simulation: the real journal, raced and crashed under one seeded
scheduler, checked after every write and audited after recovery."""

from ._coverage import CRASH_POINTS, UNREACHABLE, missing_points
from ._run import SeedResult, run_seed
from ._scheduler import NO_FAULTS, Faults, Scheduler, TraceLine

__all__ = [
    "CRASH_POINTS",
    "NO_FAULTS",
    "UNREACHABLE",
    "Faults",
    "Scheduler",
    "SeedResult",
    "TraceLine",
    "missing_points",
    "run_seed",
]
