"""Revenue by station or unit over a range, and the unit registry."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from nemstream_api._history import (
    ERRORS,
    FORMATS,
    History,
    RegionsParam,
    RevenueBy,
    regions_of,
)
from nemstream_api._models import (
    Page,
    Problem,
    RevenueRow,
    UnitInfo,
)
from nemstream_api._params import (
    Paged,
    Step,
    Window,
)
from nemstream_api._respond import Rows


def router(history: History) -> APIRouter:
    """The routes of this module."""
    api = APIRouter(tags=["history"])
    store = history.store

    @api.get(
        "/v1/revenue",
        summary="Market revenue by station or unit over a range",
        response_model=Page[RevenueRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def revenue(
        request: Request,
        paged: Annotated[Paged, Depends()],
        by: Annotated[RevenueBy, Query(description="station | unit")] = RevenueBy.STATION,
        region: RegionsParam = None,
    ) -> Response:
        """Revenue = Σ MW × RRP × interval hours (5/60 or 30/60) over the trading days of the
        range, from the daily rollup; one row per station (or unit) with the range as its
        interval."""
        regions = regions_of(region)

        def earned(asked: Window) -> Rows:
            if by is RevenueBy.STATION:
                frame = store.revenue_by_station(
                    asked.start, asked.end, regions=regions, limit=100_000
                )
                keys: tuple[str, ...] = ("station", "region", "fuel")
            else:
                frame = store.revenue_by_unit(asked.start, asked.end, regions=regions)
                keys = ("duid",)
            span = int((asked.end - asked.start).total_seconds() // 60)
            frame = frame.with_columns(
                pl.lit(asked.end).cast(pl.Datetime("us")).alias("interval"),
                pl.lit(span, pl.Int64).alias("minutes"),
            )
            return Rows(frame, keys, f"revenue_by_{by.value}", {"revenue_maud": "million AUD"})

        return await history.answer(
            request,
            paged,
            tables=("daily_unit",),
            resolution=Step.DAY,
            compute=earned,
        )

    @api.get(
        "/v1/units",
        summary="Units in the registry (search by DUID or station)",
        response_model=list[UnitInfo],
        responses={401: ERRORS[401], 422: ERRORS[422], 429: ERRORS[429]},
    )
    async def units(
        request: Request,
        search: Annotated[
            str, Query(max_length=100, description="words of a DUID or station")
        ] = "",
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    ) -> list[dict[str, Any]]:
        """DUID, station, region, fuel and registered capacity (MW)."""
        await history.guard.read(request)
        frame = await asyncio.to_thread(store.units, search, limit=limit)
        return list(frame.fill_nan(None).to_dicts())

    @api.get(
        "/v1/units/{duid}",
        summary="One unit from the registry",
        response_model=UnitInfo,
        responses={404: {"model": Problem}, 401: ERRORS[401], 429: ERRORS[429]},
    )
    async def unit(request: Request, duid: str) -> Any:
        """The unit's registry entry; 404 when the registry does not know it."""
        await history.guard.read(request)
        found = await asyncio.to_thread(store.unit, duid.strip().upper())
        if found is None:
            from fastapi import HTTPException

            raise HTTPException(404, f"no unit {duid!r} in the registry")
        return {k: v for k, v in found.items() if not (isinstance(v, float) and v != v)}

    return api
