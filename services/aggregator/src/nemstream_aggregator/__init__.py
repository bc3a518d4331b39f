"""The aggregator service: 30-minute means of 5-minute SCADA, prices and flows; emissions per
region of every SCADA interval, with the emission factor refresher."""

from nemstream_aggregator._aggregator import BUCKET, Aggregator, message_id
from nemstream_aggregator._archive import archive_aggregates, publish_archive
from nemstream_aggregator._emissions import Computed, Emissions, Factor, compute
from nemstream_aggregator._factors import refresh_factors, seed_from_samples
from nemstream_aggregator._service import run_aggregator, run_archive
from nemstream_aggregator._windows import SERIES, Series, Window, values_of, window_end
from nemstream_aggregator.settings import AggregatorSettings

__all__ = [
    "BUCKET",
    "SERIES",
    "Aggregator",
    "AggregatorSettings",
    "Computed",
    "Emissions",
    "Factor",
    "Series",
    "Window",
    "archive_aggregates",
    "compute",
    "message_id",
    "publish_archive",
    "refresh_factors",
    "run_aggregator",
    "run_archive",
    "seed_from_samples",
    "values_of",
    "window_end",
]
