"""One station's (or one DUID's) detail for the station page: its output series, its region's
price on the same intervals, revenue, price received, the region's time-weighted price,
capacity factor and a time-of-day output profile.

Output is SCADA MW summed over the station's units, negative values kept (a battery charging
gives negative output, energy and revenue, and no price received). Revenue is MW × RRP of the
region × interval hours at the pricing run's price (INTERVENTION = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from nemstream_query import _prices, _sql
from nemstream_query._answer import FIVE_MINUTES, complete, fill_ranges, with_complete
from nemstream_query._engine import Engine
from nemstream_query._generation import day_range, newest
from nemstream_query._resolution import Policy, Resolution
from nemstream_query._units import UNIT_SCHEMA, window
from nemstream_store import DAILY

OUTPUT_SCHEMA = {
    "interval": pl.Datetime("us"),
    "mw": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of a station's output series (`StationDetail.output`)."""

STATION_PRICE_SCHEMA = {
    "interval": pl.Datetime("us"),
    "rrp": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of a station's region price series (`StationDetail.prices`)."""

SERIES_SCHEMA = {
    "interval": pl.Datetime("us"),
    "mw": pl.Float64(),
    "rrp": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of a station's output beside its region's price (`StationDetail.series`)."""

PROFILE_SCHEMA = {"time_of_day": pl.String(), "mw": pl.Float64(), "intervals": pl.Int64()}
"""Columns of a station's time-of-day output profile (`StationDetail.profile`)."""


@dataclass(frozen=True, slots=True)
class StationDetail:
    """One station (or one DUID) over a range: its output series (``output``: MW summed over
    its units by interval), its region's price on the same intervals (``prices``), both side
    by side (``series``: interval, mw, rrp, minutes, and the output's intervals and complete),
    a time-of-day output profile, and the numbers a station card shows (None where there is
    nothing to compute them from). Fields can also be read by name, as from a dict:
    ``detail["series"]``, ``detail.get("revenue_aud")``."""

    station_name: str | None
    duids: tuple[str, ...]
    region: str | None
    fuel: str | None
    capacity_mw: float | None
    resolution: Resolution
    output: pl.DataFrame
    prices: pl.DataFrame
    series: pl.DataFrame
    profile: pl.DataFrame
    mwh: float | None
    capacity_factor: float | None
    revenue_aud: float | None
    price_received: float | None
    region_twa: float | None

    def __getitem__(self, name: str) -> Any:
        """A field by name (KeyError for none)."""
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        """A field by name, `default` for none."""
        return getattr(self, name) if name in self.__dataclass_fields__ else default


def _output(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    duids: list[str],
    chosen: Resolution,
) -> pl.DataFrame:
    """MW of the DUIDs summed by interval at `chosen`, gaps filled as generation's are."""
    params: dict[str, Any] = {"start": start, "end": end, "duids": duids}
    if chosen is Resolution.DAILY:
        first, last = day_range(start, end)
        daily = engine.frame(
            _sql.UNIT_OUTPUT_DAILY,
            {"files": engine.files(DAILY, *window(start, end)), "first": first, "last": last}
            | {"duids": duids},
        )
        frame = daily.select(
            (pl.col("date").cast(pl.Datetime("us")) + timedelta(days=1)).alias("interval"),
            (pl.col("mwh") / 24).alias("mw"),
            pl.lit(chosen.minutes, pl.Int64).alias("minutes"),
            "intervals",
        )
        return with_complete(frame).select(list(OUTPUT_SCHEMA)).cast(pl.Schema(OUTPUT_SCHEMA))
    five = chosen is Resolution.FIVE
    primary, other = ("scada5", "scada30") if five else ("scada30", "scada5")

    def shaped(rows: pl.DataFrame, minutes: int) -> pl.DataFrame:
        return (
            with_complete(rows.with_columns(pl.lit(minutes, pl.Int64).alias("minutes")))
            .select(list(OUTPUT_SCHEMA))
            .cast(pl.Schema(OUTPUT_SCHEMA))
        )

    def fill(halves: pl.Series) -> pl.DataFrame:
        sql = _sql.UNIT_OUTPUT30 if five else _sql.UNIT_OUTPUT5_AS_30
        parts = [
            engine.frame(sql, params | {"files": engine.files(other, a, b), "start": a, "end": b})
            for a, b in fill_ranges(halves)
        ]
        if not parts:
            return pl.DataFrame(schema=OUTPUT_SCHEMA)
        return shaped(pl.concat(parts).filter(pl.col("interval").is_in(halves.implode())), 30)

    sql = _sql.UNIT_OUTPUT5 if five else _sql.UNIT_OUTPUT30
    frame = shaped(
        engine.frame(sql, params | {"files": engine.files(primary, start, end)}), chosen.minutes
    )
    done = complete(
        frame,
        chosen,
        start,
        end,
        newest(engine, primary, other),
        policy.threshold,
        (primary, other),
        fill,
    )
    return done.frame.sort("interval")


def _profile(output: pl.DataFrame) -> pl.DataFrame:
    """Mean MW by half-hour of the day (slot named by its end, "HH:MM")."""
    if output.is_empty():
        return pl.DataFrame(schema=PROFILE_SCHEMA)
    slot = (pl.col("interval") - timedelta(minutes=FIVE_MINUTES)).dt.truncate("30m") + timedelta(
        minutes=30
    )
    return (
        output.with_columns(slot.dt.strftime("%H:%M").alias("time_of_day"))
        .group_by("time_of_day")
        .agg(
            ((pl.col("mw") * pl.col("minutes")).sum() / pl.col("minutes").sum()).alias("mw"),
            pl.col("intervals").sum(),
        )
        .sort(
            pl.when(pl.col("time_of_day") == "00:00").then(pl.lit("24:00")).otherwise("time_of_day")
        )
        .select(list(PROFILE_SCHEMA))
        .cast(pl.Schema(PROFILE_SCHEMA))
    )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def station_detail(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    station: str | None = None,
    duid: str | None = None,
) -> StationDetail:
    """A station's (by name, case ignored) or one DUID's detail over (start, end] at the
    range's resolution. Revenue and price received: at 5 minutes, Σ MW × RRP × 5/60 h over the
    intervals with both; at 30 minutes and daily, from the daily rollup over the trading days
    of the range (exact 5-minute arithmetic, whole days). ``region_twa`` is the region's
    time-weighted mean price over the intervals the output has; ``capacity_factor`` mean MW ÷
    capacity."""
    if (station is None) == (duid is None):
        raise ValueError("give a station or a DUID")
    registry = engine.frame(_sql.UNIT_LIST, {})
    if station is not None:
        mine = registry.filter(pl.col("station_name").str.to_lowercase() == station.lower())
    else:
        assert duid is not None
        mine = registry.filter(pl.col("duid").str.to_lowercase() == duid.lower())
        if mine.is_empty():
            mine = pl.DataFrame({"duid": [duid]}, schema={"duid": pl.String}).with_columns(
                *(pl.lit(None, t).alias(c) for c, t in UNIT_SCHEMA.items() if c != "duid")
            )
    duids = sorted(mine["duid"].to_list())
    region = next(iter(mine["region"].drop_nulls()), None)
    fuels = mine["fuel"].drop_nulls().unique().sort().to_list()
    capacity = float(mine["capacity_mw"].sum()) if mine["capacity_mw"].drop_nulls().len() else None
    chosen = policy.choose(start, end)
    output = (
        _output(engine, policy, start, end, duids, chosen)
        if duids
        else pl.DataFrame(schema=OUTPUT_SCHEMA)
    )
    prices = pl.DataFrame(schema=STATION_PRICE_SCHEMA)
    if region is not None and not output.is_empty():
        series = _prices.price_series(
            engine, policy, start, end, regions=[region], resolution=chosen
        ).frame
        prices = output.select("interval").join(
            series.select(list(STATION_PRICE_SCHEMA)), on="interval", how="inner"
        )
    both = output.join(prices.select("interval", "rrp"), on="interval")
    hours = pl.col("minutes") / 60
    mwh = float((output["mw"] * output["minutes"] / 60).sum()) if output.height else None
    mean_mw = _ratio(mwh, float(output["minutes"].sum()) / 60 if output.height else None)
    twa = _ratio(
        float((both["rrp"] * both["minutes"]).sum()) if both.height else None,
        float(both["minutes"].sum()) if both.height else None,
    )
    revenue: float | None = None
    priced_mwh: float | None = None
    if chosen is Resolution.FIVE:
        if both.height:
            revenue = float(both.select((pl.col("mw") * pl.col("rrp") * hours).sum()).item())
            priced_mwh = float(both.select((pl.col("mw") * hours).sum()).item())
    elif duids:
        first, last = day_range(start, end)
        days = engine.frame(
            _sql.UNIT_OUTPUT_DAILY,
            {"files": engine.files(DAILY, *window(start, end)), "first": first, "last": last}
            | {"duids": duids},
        )
        if days.height and days["priced_mwh"].drop_nulls().len():
            revenue = float(days["revenue"].sum())
            priced_mwh = float(days["priced_mwh"].sum())
    profile_source = output
    if chosen is Resolution.DAILY and duids:
        profile_source = _output(engine, policy, start, end, duids, Resolution.THIRTY)
    return StationDetail(
        station_name=next(iter(mine["station_name"].drop_nulls()), station),
        duids=tuple(duids),
        region=region,
        fuel=fuels[0] if len(fuels) == 1 else ("mixed" if fuels else None),
        capacity_mw=capacity,
        resolution=chosen,
        output=output,
        prices=prices,
        series=output.join(prices.select("interval", "rrp"), on="interval", how="left").select(
            list(SERIES_SCHEMA)
        ),
        profile=_profile(profile_source),
        mwh=mwh,
        capacity_factor=_ratio(mean_mw, capacity),
        revenue_aud=revenue,
        price_received=_ratio(revenue, priced_mwh),
        region_twa=twa,
    )
