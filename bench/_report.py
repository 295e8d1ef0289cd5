"""What every benchmark prints with: Markdown tables, ratios, percentiles, and the quiescent
audit of the store it ran on (a benchmark whose run broke an invariant must say so)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from services.loadgen import nearest_rank


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def pct(values: Iterable[float], percent: float) -> float:
    """The ``percent`` percentile by nearest rank (a measured value); NaN if none."""
    found = nearest_rank(values, percent)
    return math.nan if found is None else found


