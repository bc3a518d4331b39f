"""The aggregator service: 30-minute means of 5-minute SCADA, prices and flows."""

from nemstream_aggregator._aggregator import BUCKET, Aggregator, message_id
from nemstream_aggregator._archive import archive_aggregates, publish_archive
from nemstream_aggregator._service import run_aggregator, run_archive
from nemstream_aggregator._windows import SERIES, Series, Window, values_of, window_end
from nemstream_aggregator.settings import AggregatorSettings

__all__ = [
    "BUCKET",
    "SERIES",
    "Aggregator",
    "AggregatorSettings",
    "Series",
    "Window",
    "archive_aggregates",
    "message_id",
    "publish_archive",
    "run_aggregator",
    "run_archive",
    "values_of",
    "window_end",
]
