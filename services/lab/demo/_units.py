"""How the view and the summary print durations."""

from __future__ import annotations


def ms(value: int | None) -> str:
    return "-" if value is None else f"{value} ms"
