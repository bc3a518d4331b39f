"""The fetcher service: poll a NEMWeb feed, publish each new file's intervals to NATS exactly
once (`Fetcher`), plus `backfill` (ARCHIVE, CURRENT or MMSDM history) and `replay` (real
files published as if live)."""

from nemstream_fetcher._backfill import BackfillResult, backfill
from nemstream_fetcher._control import backfill_worker
from nemstream_fetcher._events import (
    Event,
    EventError,
    Rejected,
    ReportEvents,
    read_events,
    report_events,
    source_file,
)
from nemstream_fetcher._feeds import FEED_SPECS, FeedSpec, Publication, feed_of_report, feed_spec
from nemstream_fetcher._fetcher import Fetcher
from nemstream_fetcher._memory import BUCKET, FileMemory, key_for
from nemstream_fetcher._replay import ReplayResult, events_of, replay
from nemstream_fetcher._schedule import PollSchedule
from nemstream_fetcher._service import run_fetcher
from nemstream_fetcher.settings import FetcherSettings

__all__ = [
    "BUCKET",
    "FEED_SPECS",
    "BackfillResult",
    "Event",
    "EventError",
    "FeedSpec",
    "Fetcher",
    "FetcherSettings",
    "FileMemory",
    "PollSchedule",
    "Publication",
    "Rejected",
    "ReplayResult",
    "ReportEvents",
    "backfill",
    "backfill_worker",
    "events_of",
    "feed_of_report",
    "feed_spec",
    "key_for",
    "read_events",
    "replay",
    "report_events",
    "run_fetcher",
    "source_file",
]
