"""What the status page shows, as data (the page, ``/status.json`` and the API's ``/v1/status``
all serve this model): one card per feed, consumer and service, one per store table with its
gaps, the recent jobs, and a colour for each (green, amber, red) with the rules that set it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from nemstream_control import Job


class Colour(StrEnum):
    """How a card looks: all is well, look soon, act now."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 green, 1 amber, 2 red."""
        return ("green", "amber", "red").index(self.value)


def worst(colours: list[Colour]) -> Colour:
    """The most alarming of some colours (green when there are none)."""
    return max(colours, key=lambda c: c.rank, default=Colour.GREEN)


def feed_colour(age_s: float | None, amber_after_s: float, red_after_s: float) -> Colour:
    """A feed by the age of its newest interval: red with no data at all or older than
    `red_after_s`, amber older than `amber_after_s`, else green."""
    if age_s is None or age_s > red_after_s:
        return Colour.RED
    if age_s > amber_after_s:
        return Colour.AMBER
    return Colour.GREEN


def consumer_colour(exists: bool, pending: int, redelivered: int, pending_amber: int) -> Colour:
    """A durable consumer: red when it does not exist (nobody consumes), amber when it is far
    behind or messages are being redelivered (a handler failing), else green."""
    if not exists:
        return Colour.RED
    if pending > pending_amber or redelivered > 0:
        return Colour.AMBER
    return Colour.GREEN


class FeedCard(BaseModel):
    """A fetcher feed: its newest interval (on the bus or in the store), how old it is, and how
    its fetcher's last poll went."""

    feed: str
    colour: Colour
    latest_interval: datetime | None = Field(None, description="interval ending, NEM time")
    age_s: float | None = Field(None, description="seconds from that interval's end to now")
    seen_on: str = Field("", description="where the newest interval was found: bus or store")
    amber_after_s: float
    red_after_s: float
    last_poll_at: datetime | None = Field(None, description="the fetcher's last poll")
    last_poll_ok: bool | None = None
    last_error: str | None = Field(None, description="the fetcher's most recent problem")
    last_error_at: datetime | None = None
    detail: str = Field("", description="one sentence on the card")


class ConsumerCard(BaseModel):
    """A durable consumer of the NEM stream, as JetStream counts it."""

    durable: str
    colour: Colour
    exists: bool
    pending: int | None = Field(None, description="messages not yet delivered")
    ack_pending: int | None = Field(None, description="delivered, not yet acknowledged")
    redelivered: int | None = Field(None, description="delivered more than once, unacknowledged")
    detail: str = ""


class ServiceCard(BaseModel):
    """A service's ``/readyz``: ready, not ready (with the failing checks) or unreachable."""

    name: str
    url: str
    colour: Colour
    state: str = Field(description="ready | not ready | unreachable")
    checks: dict[str, bool] = Field(default_factory=dict)
    detail: str = ""


class Gap(BaseModel):
    """Consecutive missing intervals of a table: those ending in (start, end], and the trading
    days a backfill of them covers."""

    start: datetime = Field(description="the interval before the first missing one (exclusive)")
    end: datetime = Field(description="the last missing interval ending (inclusive)")
    intervals: int
    first_day: date
    last_day: date


class TableCard(BaseModel):
    """A store table: rows, newest interval, and its gaps in the range checked."""

    table: str
    feed: str | None = Field(None, description="the fetcher feed whose backfill fills it")
    minutes: int = Field(description="interval length the gaps are counted at")
    colour: Colour
    rows: int
    latest_interval: datetime | None = None
    expected: int = Field(0, description="intervals the range should hold, up to the newest")
    missing: int = 0
    gaps: list[Gap] = Field(default_factory=list, description="the first gaps, in time order")
    gaps_total: int = Field(0, description="gaps in all (more than listed when capped)")
    detail: str = ""


class StatusReport(BaseModel):
    """Everything the status page shows at one moment."""

    generated_at: datetime = Field(description="NEM time")
    start: datetime = Field(description="range of the gap check: intervals ending after this")
    end: datetime = Field(description="... and at or before this (NEM time)")
    colour: Colour
    feeds: list[FeedCard]
    consumers: list[ConsumerCard]
    services: list[ServiceCard]
    tables: list[TableCard]
    jobs: list[Job]
    actions_enabled: bool = Field(description="whether API keys are configured")
    refresh_s: float
