"""30-minute history straight from archives, for periods the live aggregator never saw.

MMSDM monthly files or ARCHIVE day zips (DISPATCH,PRICE, DISPATCH,UNIT_SCADA,
DISPATCH,INTERCONNECTORRES) are averaged into half-hours exactly as the live aggregator does
(same windows, same digests, so the same message ids). TradingIS prices from before five-minute
settlement (interval ending before 2021-10-01 00:05) are already 30-minute values - the
settlement average of the six dispatch prices - and become ``prices30`` rows as they are.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from nemstream_aggregator._aggregator import message_id
from nemstream_aggregator._windows import SERIES, Window, window_end
from nemstream_bus import Bus
from nemstream_contracts import DISPATCH_PRICE_30MIN, MeanRow, Message, ThirtyMinute
from nemstream_fetcher import FEED_SPECS
from nemstream_market import FIVE_MINUTE_SETTLEMENT_START, NEM_TZ
from nemstream_mms import iter_reports, views

_VIEWS = {
    publication.subject: publication.view
    for spec in FEED_SPECS.values()
    for publication in spec.publications
}
"""The view that reads each 5-minute subject's table (the fetchers' own)."""


def _windows(frame: pl.DataFrame, name: str, key: str, measure: str, source: str) -> list[Window]:
    ends = (pl.col("settlementdate") - timedelta(microseconds=1)).dt.truncate("30m") + timedelta(
        minutes=30
    )
    windows: dict[datetime, Window] = {}
    for (end, interval), group in (
        frame.with_columns(ends.alias("_end"))
        .drop_nulls(measure)
        .sort("settlementdate", key)
        .group_by("_end", "settlementdate", maintain_order=True)
    ):
        assert isinstance(end, datetime) and isinstance(interval, datetime)
        window = windows.setdefault(end, Window(name, end))
        values = dict(zip(group[key].cast(pl.String), group[measure].cast(pl.Float64), strict=True))
        window.add(interval, values, source)
    return list(windows.values())


def archive_aggregates(paths: list[Path]) -> list[tuple[str, str, Message]]:
    """(subject, message id, message) of every half-hour the files hold."""
    out: list[tuple[str, str, Message]] = []
    for path in paths:
        for report in iter_reports(path, strict=False):
            source = report.name.split("!")[0]
            for series in SERIES.values():
                view = _VIEWS[series.source]
                if not views.has_view(report, view):
                    continue
                frame = views.build(report, view)
                if series.pricing_run_only:
                    frame = views.pricing_run(frame)
                for window in _windows(frame, series.name, series.key, series.measure, source):
                    if window.end != window_end(window.end):
                        continue
                    out.append((series.target, message_id(series, window), window.message(series)))
            if views.has_view(report, views.TRADING_PRICE):
                out += _trading_half_hours(views.trading_price(report), source)
    return out


def _trading_half_hours(frame: pl.DataFrame, source: str) -> list[tuple[str, str, Message]]:
    thirty = frame.filter(pl.col("settlementdate") < FIVE_MINUTE_SETTLEMENT_START)
    out: list[tuple[str, str, Message]] = []
    for (interval,), group in thirty.sort("settlementdate").group_by(
        "settlementdate", maintain_order=True
    ):
        assert isinstance(interval, datetime)
        rows = [
            MeanRow(key=r, mean=v, intervals=6)
            for r, v in zip(group["regionid"], group["rrp"], strict=True)
            if v is not None
        ]
        if not rows:
            continue
        message = ThirtyMinute(
            feed="aggregator",
            source_file=source,
            interval=interval.replace(tzinfo=NEM_TZ),
            table="dispatch.price",
            measure="rrp",
            complete=True,
            rows=rows,
        )
        digest = hashlib.blake2b(message.model_dump_json().encode(), digest_size=12).hexdigest()
        out.append(
            (DISPATCH_PRICE_30MIN, f"aggregator:trading:{interval:%Y%m%d%H%M}:{digest}", message)
        )
    return out


async def publish_archive(bus: Bus, paths: list[Path]) -> tuple[int, int]:
    """Publish the archives' half-hours; returns (published, new)."""
    published = stored = 0
    for subject, msg_id, message in archive_aggregates(paths):
        stored += await bus.publish(subject, message, msg_id=msg_id)
        published += 1
    return published, stored
