"""Prices and generation: dispatch prices (time- and volume-weighted), trading prices as published,
generation by fuel or by unit."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from nemstream_api._history import (
    ERRORS,
    FORMATS,
    By,
    History,
    PriceKind,
    RegionsParam,
    grid_of,
    regions_of,
)
from nemstream_api._models import (
    GenerationRow,
    Page,
    PriceRow,
    TradingRow,
    UnitGenerationRow,
)
from nemstream_api._params import (
    Asked,
    Region,
    Window,
)
from nemstream_api._respond import Rows, with_missing
from nemstream_market import (
    FIVE_MINUTE_SETTLEMENT_START,
    REGIONS,
)
from nemstream_query import Resolution, expected


def router(history: History) -> APIRouter:
    """The routes of this module."""
    api = APIRouter(tags=["history"])
    store = history.store

    @api.get(
        "/v1/prices",
        summary="Regional prices: 5-minute dispatch, 30-minute, daily, or trading as published",
        response_model=Page[PriceRow] | Page[TradingRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def prices(
        request: Request,
        paged: Annotated[Asked, Depends()],
        region: RegionsParam = None,
        kind: Annotated[
            PriceKind,
            Query(description="dispatch (resampled as asked) | trading (AEMO's trading prices)"),
        ] = PriceKind.DISPATCH,
    ) -> Response:
        """RRP in $/MWh of the pricing run. Longer periods are the **time-weighted mean** of
        the 5-minute prices (AEMO's 30-minute price is defined so); every missing interval is a
        row with ``rrp`` null and ``intervals`` 0. ``kind=trading`` gives the trading prices
        as AEMO published them (30-minute before 1 Oct 2021, 5-minute after), not resampled."""
        regions = regions_of(region)
        combos = grid_of("region", regions or REGIONS)
        if kind is PriceKind.TRADING:

            def trading(asked: Window) -> Rows:
                frame = store.trading_prices(asked.start, asked.end, regions=regions)
                return Rows(
                    _trading_missing(frame, asked, combos),
                    ("region",),
                    "trading_prices",
                    {"rrp": "$/MWh"},
                    {"kind": "trading"},
                )

            return await history.answer(
                request,
                paged,
                tables=("trading_prices",),
                compute=trading,
            )

        def dispatch(asked: Window) -> Rows:
            answer = store.prices(
                asked.start, asked.end, regions=regions, resolution=asked.resolution
            )
            frame = answer.frame
            if asked.resolution is not Resolution.FIVE:
                weighted = store.volume_weighted_prices(
                    asked.start, asked.end, regions=regions, resolution=asked.resolution
                )
                frame = frame.join(
                    weighted.select("interval", "region", "rrp_volume_weighted"),
                    on=["interval", "region"],
                    how="left",
                )
            else:
                frame = frame.with_columns(pl.col("rrp").alias("rrp_volume_weighted"))
            frame = with_missing(frame, asked, ("region",), combos)
            return Rows(
                frame,
                ("region",),
                "prices",
                {"rrp": "$/MWh", "rrp_volume_weighted": "$/MWh"},
                {
                    "kind": "dispatch",
                    "aggregation": "rrp: time-weighted mean; rrp_volume_weighted: demand-weighted",
                    "coverage": answer.coverage,
                },
            )

        return await history.answer(
            request,
            paged,
            tables=("prices5", "prices30", "regionsum5"),
            compute=dispatch,
        )

    @api.get(
        "/v1/generation",
        summary="Generation by fuel (region or NEM) or by unit",
        response_model=Page[GenerationRow] | Page[UnitGenerationRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def generation(
        request: Request,
        paged: Annotated[Asked, Depends()],
        by: Annotated[By, Query(description="fuel | unit")] = By.FUEL,
        region: Annotated[Region, Query(description="a region, or NEM")] = Region["NEM"],
        duid: Annotated[
            list[str] | None, Query(description="units (by=unit; repeatable; default all)")
        ] = None,
        rooftop: Annotated[bool, Query(description="add rooftop PV as fuel `rooftop`")] = True,
    ) -> Response:
        """``mw`` is the **mean** MW over each row's period (never a sum of MW), ``mwh`` the
        energy (mean MW × hours; daily rows from the daily rollup). By unit, spans are a
        quarter of the limits by fuel (a row per unit per interval)."""
        regions = [] if str(region) == "NEM" else [str(region)]
        units = {"mw": "MW (mean over the period)", "mwh": "MWh"}
        if by is By.UNIT:
            duids = sorted(
                {d.strip().upper() for v in duid or () for d in v.split(",") if d.strip()}
            )

            def per_unit(asked: Window) -> Rows:
                answer = store.unit_generation(
                    asked.start,
                    asked.end,
                    regions=regions,
                    duids=duids,
                    resolution=asked.resolution,
                )
                keys = ("duid", "region", "fuel")
                frame = with_missing(answer.frame, asked, keys)
                return Rows(frame, keys, "generation_units", units, {"by": "unit"})

            return await history.answer(
                request,
                paged,
                tables=("scada5", "scada30", "daily_unit"),
                compute=per_unit,
                scale=0.25,
            )

        def per_fuel(asked: Window) -> Rows:
            frame = store.generation_by_fuel(
                asked.start,
                asked.end,
                regions=regions,
                by_region=bool(regions),
                resolution=asked.resolution,
                rooftop=rooftop,
            )
            if "region" not in frame.columns:
                frame = frame.with_columns(pl.lit(str(region)).alias("region"))
            keys = ("region", "fuel")
            frame = with_missing(frame.select(_GENERATION_COLUMNS), asked, keys)
            return Rows(frame, keys, "generation", units, {"by": "fuel", "aggregation": "mean MW"})

        return await history.answer(
            request,
            paged,
            tables=("scada5", "scada30", "rooftop", "daily_unit"),
            compute=per_fuel,
        )

    return api


_GENERATION_COLUMNS = [
    "interval",
    "region",
    "fuel",
    "mw",
    "mwh",
    "minutes",
    "intervals",
    "complete",
]


def _trading_missing(frame: pl.DataFrame, asked: Window, combos: pl.DataFrame) -> pl.DataFrame:
    """Null rows for trading intervals without a price: the 30-minute grid before 5-minute
    settlement, the 5-minute grid from it."""
    parts = []
    if asked.start < FIVE_MINUTE_SETTLEMENT_START - timedelta(minutes=5):
        parts.append(
            (
                expected(
                    asked.start,
                    min(asked.end, FIVE_MINUTE_SETTLEMENT_START - timedelta(minutes=5)),
                    30,
                ),
                30,
            )
        )
    if asked.end >= FIVE_MINUTE_SETTLEMENT_START:
        parts.append(
            (
                expected(
                    max(asked.start, FIVE_MINUTE_SETTLEMENT_START - timedelta(minutes=5)),
                    asked.end,
                    5,
                ),
                5,
            )
        )
    grids = [
        s.to_frame().with_columns(pl.lit(m, pl.Int64).alias("grid_minutes"))
        for s, m in parts
        if s.len()
    ]
    if not grids:
        return frame
    grid = pl.concat(grids).join(combos, how="cross")
    out = grid.join(frame, on=["interval", "region"], how="left", coalesce=True)
    return out.with_columns(pl.col("minutes").fill_null(pl.col("grid_minutes"))).drop(
        "grid_minutes"
    )
