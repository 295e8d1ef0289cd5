"""A duration histogram cheap to record on the event loop, exported as the SDK's histogram.

Why: the SDK's ``Histogram.record`` builds a measurement, takes two locks and a frozenset of
the attributes per call (8-13 us on the 2-CPU VM, once per purchase); this one is a bisect
and a few additions on plain integers under one lock, and becomes the same OTLP histogram
(the SDK's default bounds, min and max, cumulative or delta as the exporter prefers) when the
metric reader exports (``_durations_export``). One attribute, named when it is made (a Buy's
``outcome``). Records nothing until ``setup_telemetry`` exports metrics."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the SDK only where metrics are exported (collect)
    from opentelemetry.sdk.metrics.export import AggregationTemporality, Metric

BOUNDS = (0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
          5000.0, 7500.0, 10000.0)  # the SDK's default explicit bucket boundaries
_COUNT, _SUM, _MIN, _MAX, _BUCKETS = 0, 1, 2, 3, 4  # a point: [count, sum, min, max, *buckets]


class Durations:
    """A histogram of durations by one attribute's value."""

    exporting: ClassVar[bool] = False  # set by setup_telemetry when metrics are exported
    made: ClassVar[list[Durations]] = []  # every one, for the exporter

    def __init__(self, scope: str, name: str, unit: str, description: str,
                 attribute: str) -> None:
        self.scope, self.name, self.unit, self.description = scope, name, unit, description
        self.attribute = attribute
        self._lock = threading.Lock()
        self._points: dict[str, list[Any]] = {}
        self._since = time.time_ns()
        Durations.made.append(self)

    def record(self, value: float, attribute: str) -> None:
        if not Durations.exporting:
            return
        with self._lock:
            point = self._points.get(attribute)
            if point is None:
                point = self._points[attribute] = [0, 0, value, value] + [0] * (len(BOUNDS) + 1)
            point[_COUNT] += 1
            point[_SUM] += value
            if value < point[_MIN]:
                point[_MIN] = value
            elif value > point[_MAX]:
                point[_MAX] = value
            point[_BUCKETS + bisect_left(BOUNDS, value)] += 1

    def collect(self, temporality: AggregationTemporality) -> Metric | None:
        """What was recorded as the SDK's histogram: since the start (cumulative) or since
        the last collect (delta); None if nothing was."""
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Histogram,
            HistogramDataPoint,
            Metric,
        )

        now = time.time_ns()
        with self._lock:
            points = {k: list(v) for k, v in self._points.items()}
            since = self._since
            if temporality is AggregationTemporality.DELTA:
                self._points, self._since = {}, now
        if not points:
            return None
        return Metric(self.name, self.description, self.unit, Histogram([
            HistogramDataPoint({self.attribute: key}, since, now, p[_COUNT], p[_SUM],
                               p[_BUCKETS:], BOUNDS, p[_MIN], p[_MAX])
            for key, p in points.items()], temporality))
