"""The SDK's periodic metric reader, with every ``Durations`` (``_durations``) added to what
it collects from the SDK's own instruments (even when they have nothing), so the exporter
sends them with the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import Histogram as SdkHistogram
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Metric,
    MetricExporter,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from ._durations import Durations

Collect = Callable[..., MetricsData | None]


class DurationsReader(PeriodicExportingMetricReader):
    def __init__(self, exporter: MetricExporter, resource: Resource, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self._resource = resource

    # The SDK's hook for its MeterProvider (final, "internal"): the one place that sees each
    # collection, also one where the SDK's instruments had nothing (then it exports nothing,
    # so an override of the exporter would miss ours). tests/tracing/test_durations.py pins it.
    def _set_collect_callback(self, func: Collect) -> None:  # type: ignore[misc,override]
        def collect(reader: MetricReader, timeout_millis: float = 10_000) -> MetricsData | None:
            return self.with_durations(func(reader, timeout_millis=timeout_millis))

        super()._set_collect_callback(collect)  # type: ignore[arg-type]  # its stub is off

    def with_durations(self, metrics_data: MetricsData | None) -> MetricsData | None:
        """``metrics_data`` (None: the SDK's instruments had nothing) with every Durations
        that has points added to the (first) resource, each in its own scope."""
        temporality = self._instrument_class_temporality.get(
            SdkHistogram, AggregationTemporality.CUMULATIVE)
        scopes: dict[str, list[Metric]] = {}
        for durations in Durations.made:
            metric = durations.collect(temporality)
            if metric is not None:
                scopes.setdefault(durations.scope, []).append(metric)
        if not scopes:
            return metrics_data
        ours = [ScopeMetrics(InstrumentationScope(scope), metrics, "")
                for scope, metrics in scopes.items()]
        if metrics_data is None or not metrics_data.resource_metrics:
            return MetricsData([ResourceMetrics(self._resource, ours, "")])
        first, *rest = metrics_data.resource_metrics
        return MetricsData([ResourceMetrics(first.resource, [*first.scope_metrics, *ours],
                                            first.schema_url), *rest])
