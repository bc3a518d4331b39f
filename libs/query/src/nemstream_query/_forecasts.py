"""Price forecasts: AEMO's 5-minute pre-dispatch (``p5min``, a run every 5 minutes for the next
hour) and 30-minute pre-dispatch (``predispatch``, a run every half hour to the end of the next
trading day), and how they compare with the prices that came.

Every time is naive NEM time, interval ending. A run made at ``run`` forecasts intervals ending
at or after it; its **lead** for an interval is ``interval - run`` in minutes (a P5MIN run's
first interval ends at the run time: lead 0). Only the pricing run (INTERVENTION = 0) is read.

The **actual** price of a 5-minute interval is its dispatch price (``prices5``, pricing run).
The actual price of a half hour is the time-weighted mean of its six dispatch prices: the
aggregator's stored mean (``prices30``, complete rows only: ``intervals >= 6``; before 5-minute
settlement AEMO's own trading price), else the mean of the six ``prices5`` values when all six
are stored. A half hour with fewer has no actual and counts in no measure.

Accuracy (`forecast_accuracy`), per region and lead over the forecast intervals ending in
(start, end], of every (run, interval) pair that has both a forecast and an actual:

* ``count``: such pairs; ``mae``: mean of ``|forecast - actual|``; ``bias``: mean of
  ``forecast - actual`` (positive: forecasts too high), both in $/MWh;
* for each threshold X in `SPIKES` ($300 and $1,000/MWh): ``spikes_X`` pairs whose actual was
  ≥ X; ``hits_X`` those also forecast ≥ X; ``hit_rate_X`` = hits / spikes (null without
  spikes); ``false_alarms_X`` pairs forecast ≥ X whose actual was < X;
  ``false_alarm_rate_X`` = false alarms / pairs forecast ≥ X (null when none was).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime, time, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from nemstream_query._engine import Engine
from nemstream_query._forecast_sql import (
    ACCURACY,
    ACCURACY_SCHEMA,
    ACTUAL5,
    ACTUAL30,
    BAND,
    BAND_SCHEMA,
    FORECAST_SCHEMA,
    FORECASTS_OF,
    HORIZON,
    LATEST,
    MINUTES,
    SOURCES,
    SPIKES,
    Source,
)
from nemstream_query._records import MonthMemo
from nemstream_query._resolution import align_down


def _frame(engine: Engine, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    frame = engine.frame(sql, params)
    return frame.select(pl.col(c).cast(t) for c, t in FORECAST_SCHEMA.items())


def newest_run(engine: Engine, sources: Sequence[Source] = SOURCES) -> datetime | None:
    """The newest run of any of `sources` (from the manifests: no data read), the default
    moment of a latest forecast."""
    runs = [t for t in (engine.latest(s) for s in sources) if t is not None]
    return max(runs) if runs else None


def latest_forecast(
    engine: Engine,
    at: datetime | None = None,
    *,
    hours: float = 24.0,
    regions: Sequence[str] = (),
    sources: Sequence[Source] = SOURCES,
) -> pl.DataFrame:
    """The forecast as it stood at `at` (default: the newest run stored) for the intervals
    ending in [at, at + hours]: from the newest P5MIN run made at or before `at` (its next
    hour), then from the newest pre-dispatch run made at or before `at` for the half hours
    ending after the last P5MIN interval. Columns `FORECAST_SCHEMA`: each row says its
    ``source`` and its ``run``; sorted by interval, region."""
    at = at if at is not None else newest_run(engine, sources)
    if at is None:
        return pl.DataFrame(schema=FORECAST_SCHEMA)
    until = at + timedelta(hours=hours)
    after = datetime.min
    parts = []
    for source in SOURCES:
        if source not in sources:
            continue
        since = at - HORIZON[source] - timedelta(minutes=MINUTES[source])
        params = {
            "files": engine.files(source, since, at),
            "since": since,
            "at": at,
            "after": after,
            "until": until,
            "regions": list(regions),
        }
        frame = _frame(engine, LATEST[source], params)
        if frame.height:
            last = frame.get_column("interval").max()
            assert isinstance(last, datetime)
            after = max(after, last)
        parts.append(frame)
    if not parts:
        return pl.DataFrame(schema=FORECAST_SCHEMA)
    return pl.concat(parts).sort("interval", "region", "source")


def forecast_band(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    made: datetime | None = None,
    regions: Sequence[str] = (),
) -> pl.DataFrame:
    """The spread of the forecasts for the intervals ending in (start, end], for drawing under
    the actual prices: per interval and region, the lowest and highest forecast of every run
    made by `made` (default: any time) that forecast it, the newest such run's forecast
    (``rrp``) and time (``run``), and how many runs (``runs``). P5MIN for its 5-minute
    intervals; pre-dispatch only for the half hours P5MIN has no forecast in (any of their
    six intervals), so each stretch of time has one source. Columns `BAND_SCHEMA`."""
    made = made or end
    parts = {}
    for source in SOURCES:
        since = start - HORIZON[source] - timedelta(minutes=MINUTES[source])
        params = {
            "files": engine.files(source, since, min(end, made)),
            "since": since,
            "made": made,
            "start": start,
            "end": end,
            "regions": list(regions),
        }
        frame = engine.frame(BAND[source], params)
        parts[source] = frame.select(pl.col(c).cast(t) for c, t in BAND_SCHEMA.items())
    five = parts["p5min"]
    if five.height:
        covered = five.select(
            "region",
            (
                (pl.col("interval") - timedelta(minutes=5)).dt.truncate("30m")
                + timedelta(minutes=30)
            ).alias("interval"),
        ).unique()
        parts["predispatch"] = parts["predispatch"].join(
            covered, on=["region", "interval"], how="anti"
        )
    return pl.concat(parts.values()).sort("interval", "region")


def _actuals(
    engine: Engine, source: Source, start: datetime, end: datetime, regions: Sequence[str]
) -> pl.DataFrame:
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "regions": list(regions),
        "prices5": engine.files("prices5", start, end),
    }
    if source == "p5min":
        return engine.frame(ACTUAL5, params)
    params["start5"] = align_down(start, 30)
    params["prices30"] = engine.files("prices30", start, end)
    return engine.frame(ACTUAL30, params)


def forecast_evolution(
    engine: Engine,
    interval: datetime,
    *,
    regions: Sequence[str] = (),
    sources: Sequence[Source] = SOURCES,
) -> pl.DataFrame:
    """How the forecast for the interval ending `interval` changed as it came closer: every
    P5MIN run's forecast of that 5-minute interval and every pre-dispatch run's forecast of
    the half hour holding it, each with its lead and the actual price (the dispatch price, or
    the half hour's actual: module docstring) and ``error`` = rrp - actual. Columns
    `FORECAST_SCHEMA`, then actual and error; sorted by source, region, run."""
    parts = []
    for source in sources:
        minutes = MINUTES[source]
        target = align_down(interval - timedelta(microseconds=1), minutes) + timedelta(
            minutes=minutes
        )
        since = target - HORIZON[source] - timedelta(minutes=minutes)
        params = {
            "files": engine.files(source, since, target),
            "since": since,
            "interval": target,
            "regions": list(regions),
        }
        frame = _frame(engine, FORECASTS_OF[source], params)
        actual = _actuals(engine, source, target - timedelta(minutes=minutes), target, regions)
        parts.append(
            frame.join(actual, on=["interval", "region"], how="left").with_columns(
                pl.col("actual").cast(pl.Float64)
            )
        )
    schema = {**FORECAST_SCHEMA, "actual": pl.Float64()}
    if not parts:
        return pl.DataFrame(schema={**schema, "error": pl.Float64()})
    return (
        pl.concat(parts)
        .select(list(schema))
        .with_columns((pl.col("rrp") - pl.col("actual")).alias("error"))
        .sort("source", "region", "run")
    )


def _months(start: datetime, end: datetime) -> list[tuple[datetime, datetime, bool]]:
    """(start, end] cut at month starts: (a, b, whether (a, b] is a whole calendar month)."""
    cuts = [start]
    month = _next_month(datetime(start.year, start.month, 1))
    while month < end:
        cuts.append(month)
        month = _next_month(month)
    cuts.append(end)
    return [
        (a, b, a.day == 1 and a.time() == time() and b == _next_month(a)) for a, b in pairwise(cuts)
    ]


def _next_month(moment: datetime) -> datetime:
    """The first of the month after `moment`'s, 00:00."""
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def _error_sums(
    engine: Engine, start: datetime, end: datetime, source: Source, regions: Sequence[str]
) -> tuple[Hashable, dict[str, Any]]:
    """The parameters of `ACCURACY` over (start, end], and a key naming what they read (the
    parts: a part is never changed, only replaced by a new file)."""
    since = start - HORIZON[source] - timedelta(minutes=MINUTES[source])
    params: dict[str, Any] = {
        "files": engine.files(source, since, end),
        "prices5": engine.files("prices5", start - timedelta(minutes=30), end),
        "since": since,
        "start": start,
        "end": end,
        "regions": list(regions),
    }
    if source == "predispatch":
        params["start5"] = align_down(start, 30)
        params["prices30"] = engine.files("prices30", start, end)
    key = (source, start, end, tuple(regions), *(tuple(params[f]) for f in _FILE_PARAMS[source]))
    return key, params


_FILE_PARAMS: dict[Source, tuple[str, ...]] = {
    "p5min": ("files", "prices5"),
    "predispatch": ("files", "prices5", "prices30"),
}


def forecast_accuracy(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    source: Source = "p5min",
    regions: Sequence[str] = (),
    memo: MonthMemo | None = None,
) -> pl.DataFrame:
    """How good one source's forecasts were for the intervals ending in (start, end]: per
    region and lead, the count, mean absolute error, bias and spike hit and false-alarm rates
    (defined in the module docstring). Columns `ACCURACY_SCHEMA`, sorted by region, lead.

    The error sums are additive, so they are read per month (one read for every month not
    kept) and each whole month's are kept in `memo` under the parts they were read from: a
    year asked again reads only the months whose parts changed (the current one, as new runs
    and prices land)."""
    pieces = _months(start, end)
    keys = [_error_sums(engine, a, b, source, regions)[0] for a, b, _ in pieces]
    sums: list[pl.DataFrame | None] = [
        memo.get(key) if memo is not None and whole else None
        for key, (_, _, whole) in zip(keys, pieces, strict=True)
    ]
    missing = [i for i, kept in enumerate(sums) if kept is None]
    if missing:  # one read for every piece from the first to the last not kept
        first, last = missing[0], missing[-1]
        _, params = _error_sums(engine, pieces[first][0], pieces[last][1], source, regions)
        fresh = engine.frame(ACCURACY[source], params)
        for i in range(first, last + 1):
            a, _, whole = pieces[i]
            piece = fresh.filter(pl.col("month") == a.date().replace(day=1))
            sums[i] = piece
            if memo is not None and whole:
                memo.put(keys[i], piece)
    frame = (
        pl.concat([kept for kept in sums if kept is not None])
        .group_by("region", "lead_minutes")
        .agg(pl.exclude("month", "region", "lead_minutes").sum())
        .with_columns(
            (pl.col("abs_error") / pl.col("count")).alias("mae"),
            (pl.col("error") / pl.col("count")).alias("bias"),
        )
    )
    rates = []
    for x in SPIKES:
        spikes, hits, called = pl.col(f"spikes_{x}"), pl.col(f"hits_{x}"), pl.col(f"forecast_{x}")
        rates += [
            pl.when(spikes > 0).then(hits / spikes).alias(f"hit_rate_{x}"),
            pl.when(called > 0).then(pl.col(f"false_alarms_{x}") / called),
        ]
        rates[-1] = rates[-1].alias(f"false_alarm_rate_{x}")
    return (
        frame.with_columns(*rates, pl.lit(source).alias("source"))
        .select(pl.col(c).cast(t) for c, t in ACCURACY_SCHEMA.items())
        .sort("region", "lead_minutes")
    )


__all__ = [
    "ACCURACY_SCHEMA",
    "BAND_SCHEMA",
    "FORECAST_SCHEMA",
    "SOURCES",
    "SPIKES",
    "Source",
    "forecast_accuracy",
    "forecast_band",
    "forecast_evolution",
    "latest_forecast",
    "newest_run",
]
