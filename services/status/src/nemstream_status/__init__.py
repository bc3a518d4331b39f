"""The status page for operators: is data flowing (feeds, consumers, services, gaps in the
store), with the actions that repair it (an integrity check, a backfill of a gap, a test
alert). `StatusCollector` gathers a `StatusReport` (the API's ``/v1/status`` serves the same);
`start_integrity`, `start_backfill` and `send_test_alert` are the actions, each a job."""

from nemstream_status._actions import (
    BACKFILL_MAX_DAYS,
    DEFAULT_TEST_MESSAGE,
    send_test_alert,
    start_backfill,
    start_integrity,
)
from nemstream_status._app import create_app
from nemstream_status._collector import BadRequest, StatusCollector, day_range
from nemstream_status._page import render_page
from nemstream_status._report import (
    Colour,
    ConsumerCard,
    FeedCard,
    Gap,
    ServiceCard,
    StatusReport,
    TableCard,
    consumer_colour,
    feed_colour,
    worst,
)
from nemstream_status._service import run_status
from nemstream_status._store import FEEDS, table_feed
from nemstream_status.settings import StatusSettings

__all__ = [
    "BACKFILL_MAX_DAYS",
    "DEFAULT_TEST_MESSAGE",
    "FEEDS",
    "BadRequest",
    "Colour",
    "ConsumerCard",
    "FeedCard",
    "Gap",
    "ServiceCard",
    "StatusCollector",
    "StatusReport",
    "StatusSettings",
    "TableCard",
    "consumer_colour",
    "create_app",
    "day_range",
    "feed_colour",
    "render_page",
    "run_status",
    "send_test_alert",
    "start_backfill",
    "start_integrity",
    "table_feed",
    "worst",
]
