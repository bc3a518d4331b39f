"""Reading Prometheus metrics in tests the way a scrape sees them: through the registry, by
metric name and labels, never through a collector's private attributes."""

from __future__ import annotations

from prometheus_client import REGISTRY


def metric(name: str, **labels: str) -> float:
    """A sample's current value (0 when it was never observed). Counters are read by their
    sample name, e.g. ``nemstream_fetch_files_total``."""
    value = REGISTRY.get_sample_value(name, labels or None)
    return 0.0 if value is None else float(value)
