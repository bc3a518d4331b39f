"""Reports to events: one message per interval per table, on the feed's subjects.

The same code serves live fetching, backfill and replay, so the same file always gives the
same messages with the same ``Nats-Msg-Id`` (feed, file, table, interval).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from pydantic import ValidationError

from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_PRICE,
    DISPATCH_REGIONSUM,
    NEM_TZ,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    TRADING_PRICE,
    DispatchInterconnector,
    DispatchPrice,
    DispatchPriceRow,
    DispatchRegionSum,
    InterconnectorRow,
    Message,
    RegionSumRow,
    RooftopActual,
    RooftopRow,
    TradingPrice,
    TradingPriceRow,
    UnitScada,
    UnitScadaRow,
    message_id,
)
from nemstream_mms import MmsError, MmsReport, views

# row fields come from the contracts, so an event never carries a column its schema lacks
_PRICE_FIELDS = list(DispatchPriceRow.model_fields)
_REGIONSUM_FIELDS = list(RegionSumRow.model_fields)
_INTERCONNECTOR_FIELDS = list(InterconnectorRow.model_fields)
_TRADING_FIELDS = list(TradingPriceRow.model_fields)
_SCADA_FIELDS = list(UnitScadaRow.model_fields)
_ROOFTOP_FIELDS = list(RooftopRow.model_fields)


class EventError(MmsError):
    """A report whose rows do not make valid events (a value out of its contract)."""


@dataclass(frozen=True, slots=True)
class Event:
    """A message ready to publish: subject, id, body, and the interval it is about."""

    subject: str
    msg_id: str
    message: Message
    interval: datetime  # naive NEM time, for ordering


def source_file(member: str) -> str:
    """The NEMWeb file a report came from: the innermost zip (an ARCHIVE day zip holds the
    very 5-minute zips published live, so ids match live publication)."""
    parts = member.split("!")
    zips = [p for p in parts if p.lower().endswith(".zip")]
    return zips[-1] if zips else parts[-1]


def _rows(frame: pl.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    present = [f for f in fields if f in frame.columns]
    return frame.select(present).to_dicts()


def _intervals(frame: pl.DataFrame, column: str) -> Iterator[tuple[datetime, pl.DataFrame]]:
    for (interval,), group in frame.sort(column).group_by(column, maintain_order=True):
        assert isinstance(interval, datetime)
        yield interval, group


def _event(
    subject: str, table: str, feed: str, source: str, interval: datetime, message: Message
) -> Event:
    return Event(subject, message_id(feed, source, table, interval), message, interval)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=NEM_TZ)


def report_events(feed: str, report: MmsReport) -> list[Event]:
    """Every event one report gives for a feed, in interval order (raises EventError when a
    row breaks its contract, MmsError when the report lacks what the feed needs)."""
    source = source_file(report.members[0] if report.members else report.name)
    events: list[Event] = []
    try:
        if feed == "dispatch":
            for table, subject, model, fields, view in (
                (
                    "DISPATCH,PRICE",
                    DISPATCH_PRICE,
                    DispatchPrice,
                    _PRICE_FIELDS,
                    views.DISPATCH_PRICE,
                ),
                (
                    "DISPATCH,REGIONSUM",
                    DISPATCH_REGIONSUM,
                    DispatchRegionSum,
                    _REGIONSUM_FIELDS,
                    views.DISPATCH_REGIONSUM,
                ),
                (
                    "DISPATCH,INTERCONNECTORRES",
                    DISPATCH_INTERCONNECTOR,
                    DispatchInterconnector,
                    _INTERCONNECTOR_FIELDS,
                    views.DISPATCH_INTERCONNECTOR,
                ),
            ):
                if not views.has_view(report, view):
                    continue
                frame = views.build(report, view)
                for interval, group in _intervals(frame, "settlementdate"):
                    message: Message = model(
                        feed=feed,
                        source_file=source,
                        interval=_aware(interval),
                        rows=_rows(group, fields),
                    )
                    events.append(_event(subject, table, feed, source, interval, message))
            if not events:
                raise MmsError(report.name, "no DISPATCH,PRICE/REGIONSUM/INTERCONNECTORRES rows")
        elif feed == "trading":
            for interval, group in _intervals(views.trading_price(report), "settlementdate"):
                message = TradingPrice(
                    feed=feed,
                    source_file=source,
                    interval=_aware(interval),
                    interval_minutes=views.trading_interval_minutes(interval),
                    rows=_rows(group, _TRADING_FIELDS),
                )
                events.append(
                    _event(TRADING_PRICE, "TRADING,PRICE", feed, source, interval, message)
                )
        elif feed == "scada":
            for interval, group in _intervals(views.unit_scada(report), "settlementdate"):
                message = UnitScada(
                    feed=feed,
                    source_file=source,
                    interval=_aware(interval),
                    rows=_rows(group.drop_nulls("scadavalue"), _SCADA_FIELDS),
                )
                events.append(
                    _event(SCADA_UNIT, "DISPATCH,UNIT_SCADA", feed, source, interval, message)
                )
        elif feed == "rooftop":
            rooftop = views.rooftop_actual(report)
            for (interval, kind), group in rooftop.sort("interval_datetime", "type").group_by(
                "interval_datetime", "type", maintain_order=True
            ):
                assert isinstance(interval, datetime)
                message = RooftopActual(
                    feed=feed,
                    source_file=source,
                    interval=_aware(interval),
                    type=kind,
                    rows=_rows(group, _ROOFTOP_FIELDS),
                )
                events.append(
                    _event(
                        ROOFTOP_ACTUAL, f"ROOFTOP,ACTUAL,{kind}", feed, source, interval, message
                    )
                )
        else:
            raise ValueError(f"unknown feed {feed!r}")
    except ValidationError as exc:
        first = exc.errors()[0]
        raise EventError(
            report.name, f"row breaks its contract: {first['loc']}: {first['msg']}"
        ) from exc
    return sorted(events, key=lambda e: e.interval)


def feed_of_report(report: MmsReport) -> str | None:
    """Which fetcher feed a report's tables belong to (for replaying arbitrary files)."""
    for feed, view in (
        ("dispatch", views.DISPATCH_PRICE),
        ("trading", views.TRADING_PRICE),
        ("scada", views.UNIT_SCADA),
        ("rooftop", views.ROOFTOP_ACTUAL),
    ):
        if views.has_view(report, view):
            return feed
    return None
