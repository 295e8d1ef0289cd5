"""Percentiles by nearest rank: the smallest measured value with at least ``percent`` % of the
values at or below it, so every answer is a value that was measured and p100 is the max."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T", int, float)


def nearest_rank(values: Iterable[T], percent: float) -> T | None:
    """The ``percent`` percentile of ``values``; None if there are none."""
    ranked = sorted(values)
    if not ranked:
        return None
    rank = max(math.ceil(percent / 100 * len(ranked)), 1)
    return ranked[min(rank, len(ranked)) - 1]
