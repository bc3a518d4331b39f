"""How each fetcher's last poll went, kept in KV (``nemstream_feeds``, key = feed) so the status
page can say a feed's last error without reading any fetcher's logs.

A fetcher records every poll's outcome but writes only when something changed (ok ↔ error, a
new error text) or the record is older than `every_s`: a feed polled each second does not
write each second. The last error (and when it happened) is kept across later good polls, so
the page still shows it after the feed recovered.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from nats.js.kv import KeyValue
from pydantic import BaseModel, Field

from nemstream_bus import Bus, kv_value

FEEDS_BUCKET = "nemstream_feeds"
ERROR_CHARS = 500
"""Error texts are cut to this length."""


class FeedPoll(BaseModel):
    """A fetcher's last poll: when, whether it went well, and the last error it met."""

    feed: str
    polled_at: datetime = Field(description="when the last poll ended (UTC)")
    ok: bool = Field(description="whether the last poll went through without a problem")
    error: str | None = Field(None, description="the last poll's problem, if it had one")
    last_error: str | None = Field(None, description="the most recent problem of any poll")
    last_error_at: datetime | None = Field(None, description="when that was (UTC)")


class FeedPolls:
    """The feeds bucket: fetchers write their feed's record, the status page reads them all."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self._written: dict[str, tuple[FeedPoll, float]] = {}  # feed -> (record, monotonic)

    @classmethod
    async def open(cls, bus: Bus) -> FeedPolls:
        """The bucket on `bus`, created if missing."""
        return cls(await bus.kv(FEEDS_BUCKET))

    async def get(self, feed: str) -> FeedPoll | None:
        """A feed's record, or None if its fetcher never recorded one."""
        value = await kv_value(self.kv, feed)
        if value is None:
            return None
        try:
            return FeedPoll.model_validate_json(value)
        except ValueError:
            return None

    async def record(
        self, feed: str, error: str | None = None, *, every_s: float = 60.0
    ) -> FeedPoll | None:
        """Record a poll's outcome (`error`: its problem, None when it went well); returns the
        record written, or None when nothing changed and the last write is recent enough."""
        now = datetime.now(UTC)
        error = error[:ERROR_CHARS] if error else None
        previous = self._written.get(feed)
        if previous is None:
            before = await self.get(feed)
        else:
            before = previous[0]
            if (
                before.error == error
                and time.monotonic() - previous[1] < every_s
                and (error is None or before.last_error == error)
            ):
                return None
        poll = FeedPoll(
            feed=feed,
            polled_at=now,
            ok=error is None,
            error=error,
            last_error=error or (before.last_error if before else None),
            last_error_at=now if error else (before.last_error_at if before else None),
        )
        await self.kv.put(feed, poll.model_dump_json().encode())
        self._written[feed] = (poll, time.monotonic())
        return poll
