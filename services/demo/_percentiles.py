"""Percentiles for the view and the summary (repair delays, notify lag)."""

from __future__ import annotations

import math


def nearest_rank(values: list[int], percent: float) -> int | None:
    """The ``percent`` percentile of ``values`` by nearest rank; None if there are none."""
    if not values:
        return None
    ranked = sorted(values)
    rank = max(math.ceil(percent / 100 * len(ranked)), 1)
    return ranked[min(rank, len(ranked)) - 1]


def ms(value: int | None) -> str:
    return "-" if value is None else f"{value} ms"
