"""``Durations`` exports what the SDK's histogram would for the same values (count, sum,
buckets and bounds, min, max, the attribute), cumulative or delta, added to what the SDK's
metric reader collected. Logic only: the SDK's own histogram as the reference, no export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource

from services.runtime import Durations
from services.runtime._durations_export import DurationsReader

VALUES = [(0.0, "Bought"), (3.5, "Bought"), (5.0, "Bought"), (12.25, "LostRace"),
          (99.0, "Bought"), (20_000.0, "Bought"), (0.5, "LostRace")]
RESOURCE = Resource.create({"service.name": "abc-purchase"})


@pytest.fixture
def durations() -> Iterator[Durations]:
    Durations.exporting = True
    made = Durations("abc.purchase", "abc.purchase.duration", "ms", "Buy calls", "outcome")
    try:
        yield made
    finally:
        Durations.made.remove(made)
        Durations.exporting = False


def _sdk_points() -> dict[str, HistogramDataPoint]:
    reader = InMemoryMetricReader()
    histogram = MeterProvider(metric_readers=[reader]).get_meter("abc.purchase") \
        .create_histogram("abc.purchase.duration", unit="ms")
    for value, outcome in VALUES:
        histogram.record(value, {"outcome": outcome})
    data = reader.get_metrics_data()
    assert data is not None
    (metric,) = data.resource_metrics[0].scope_metrics[0].metrics
    return _points(metric)


def _points(metric: Metric | None) -> dict[str, HistogramDataPoint]:
    assert metric is not None
    points = {}
    for point in metric.data.data_points:
        assert isinstance(point, HistogramDataPoint) and point.attributes is not None
        points[str(point.attributes["outcome"])] = point
    return points


def _what(point: HistogramDataPoint) -> tuple[object, ...]:
    return (dict(point.attributes or {}), point.count, point.sum, list(point.bucket_counts),
            list(point.explicit_bounds), point.min, point.max)


def test_the_same_points_as_the_sdks_histogram(durations: Durations) -> None:
    for value, outcome in VALUES:
        durations.record(value, outcome)
    metric = durations.collect(AggregationTemporality.CUMULATIVE)
    assert metric is not None
    assert (metric.name, metric.unit) == ("abc.purchase.duration", "ms")
    assert {k: _what(p) for k, p in _points(metric).items()} == {
        k: _what(p) for k, p in _sdk_points().items()}
    again = _points(durations.collect(AggregationTemporality.CUMULATIVE))
    assert sum(p.count for p in again.values()) == len(VALUES)


def test_delta_starts_again_after_each_collect(durations: Durations) -> None:
    durations.record(1.0, "Bought")
    first = _points(durations.collect(AggregationTemporality.DELTA))
    assert first["Bought"].count == 1
    assert durations.collect(AggregationTemporality.DELTA) is None


def test_nothing_is_recorded_unless_metrics_are_exported(durations: Durations) -> None:
    Durations.exporting = False
    durations.record(1.0, "Bought")
    assert durations.collect(AggregationTemporality.CUMULATIVE) is None


class _Kept(MetricExporter):
    """Keeps what it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[MetricsData] = []

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000,
               **kwargs: Any) -> MetricExportResult:
        self.sent.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def test_the_reader_adds_them_to_what_the_sdk_collected(durations: Durations) -> None:
    kept = _Kept()
    reader = DurationsReader(kept, RESOURCE, export_interval_millis=10**9)
    meter = MeterProvider(resource=RESOURCE, metric_readers=[reader]).get_meter("abc.purchase")
    lost_races = meter.create_counter("abc.purchase.lost_races")
    assert reader.with_durations(None) is None  # nothing anywhere: nothing to export
    durations.record(7.0, "Bought")
    reader.collect()  # the SDK's counter has nothing: ours alone
    lost_races.add(1)
    reader.collect()
    exported = kept.sent
    assert [[(r.resource.attributes["service.name"], s.scope.name, [m.name for m in s.metrics])
             for r in data.resource_metrics for s in r.scope_metrics] for data in exported] == [
        [("abc-purchase", "abc.purchase", ["abc.purchase.duration"])],
        [("abc-purchase", "abc.purchase", ["abc.purchase.lost_races"]),
         ("abc-purchase", "abc.purchase", ["abc.purchase.duration"])]]
