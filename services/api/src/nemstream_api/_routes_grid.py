"""The grid's regional series: interconnector flows, rooftop PV, regional demand and
interchange."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from nemstream_api._history import (
    ERRORS,
    FORMATS,
    History,
    RegionsParam,
    grid_of,
    regions_of,
)
from nemstream_api._models import (
    InterconnectorRow,
    Page,
    RegionSumRow,
    RooftopRow,
)
from nemstream_api._params import (
    Asked,
    Region,
    Step,
    Window,
    invalid,
)
from nemstream_api._respond import Rows, with_missing
from nemstream_market import (
    REGIONS,
    ROOFTOP_REGIONS,
    interconnector_regions,
)


def router(history: History) -> APIRouter:
    """The routes of this module."""
    api = APIRouter(tags=["history"])
    store = history.store

    @api.get(
        "/v1/interconnectors",
        summary="Interconnector flows",
        response_model=Page[InterconnectorRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def interconnectors(
        request: Request,
        paged: Annotated[Asked, Depends()],
        region: Annotated[
            Region, Query(description="only interconnectors touching this region (NEM: all)")
        ] = Region["NEM"],
    ) -> Response:
        """Metered MW flow (mean over the period; positive from the id's first region to its
        second), target flow, losses and limits at 5 minutes."""
        wanted = str(region)

        def flows(asked: Window) -> Rows:
            frame = store.interconnector_flows(asked.start, asked.end).frame
            if wanted != "NEM":
                ids = [
                    i
                    for i in frame["interconnectorid"].unique().to_list()
                    if wanted in (interconnector_regions(i) or ())
                ]
                frame = frame.filter(pl.col("interconnectorid").is_in(ids))
            frame = with_missing(frame, asked, ("interconnectorid",))
            return Rows(frame, ("interconnectorid",), "interconnectors", {"meteredmwflow": "MW"})

        return await history.answer(
            request,
            paged,
            tables=("interconnector5", "interconnector30"),
            compute=flows,
        )

    @api.get(
        "/v1/rooftop",
        summary="Rooftop PV by region (and sub-region, never added into its region)",
        response_model=Page[RooftopRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def rooftop(
        request: Request,
        paged: Annotated[Asked, Depends()],
        region: Annotated[
            list[str] | None,
            Query(description="regions or sub-regions: " + ", ".join(ROOFTOP_REGIONS)),
        ] = None,
        subregions: Annotated[
            bool, Query(description="include QLDC, QLDN, QLDS, TASN, TASS")
        ] = True,
    ) -> Response:
        """Mean MW over each half-hour (or trading day) as AEMO estimates it, MEASUREMENT
        preferred over SATELLITE."""
        picked = sorted(
            {r.strip().upper() for v in region or () for r in v.split(",") if r.strip()}
        )
        unknown = [r for r in picked if r not in ROOFTOP_REGIONS and r != "NEM"]
        if unknown:
            invalid(
                "region", f"unknown regions {unknown}; known: {', '.join(ROOFTOP_REGIONS)}", region
            )
        if paged.resolution is Step.FIVE:
            invalid("resolution", "rooftop PV is half-hourly: ask for 30min, day or auto", "5min")
        picked = [r for r in picked if r != "NEM"]

        def pv(asked: Window) -> Rows:
            frame = store.rooftop_by_region(
                asked.start,
                asked.end,
                include_subregions=subregions,
                regions=picked,
                resolution=asked.resolution,
            )
            frame = with_missing(frame, asked, ("regionid",))
            return Rows(frame, ("regionid",), "rooftop", {"mw": "MW (mean over the period)"})

        return await history.answer(
            request,
            paged,
            tables=("rooftop", "daily_rooftop"),
            resolution=Step.THIRTY
            if paged.resolution is Step.AUTO and _short(paged.start, paged.end)
            else paged.resolution,
            compute=pv,
        )

    @api.get(
        "/v1/regionsum",
        summary="Regional demand, generation, interchange and curtailment",
        response_model=Page[RegionSumRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def regionsum(
        request: Request,
        paged: Annotated[Asked, Depends()],
        region: RegionsParam = None,
    ) -> Response:
        """Each MW measure is the **mean** over the row's period; ``demand_mwh`` the energy."""
        regions = regions_of(region)
        combos = grid_of("region", regions or REGIONS)

        def sums(asked: Window) -> Rows:
            answer = store.regionsum(
                asked.start, asked.end, regions=regions, resolution=asked.resolution
            )
            frame = with_missing(answer.frame, asked, ("region",), combos)
            units = {m: "MW (mean over the period)" for m in frame.columns if m.endswith("_mw")}
            return Rows(frame, ("region",), "regionsum", {**units, "demand_mwh": "MWh"})

        return await history.answer(
            request,
            paged,
            tables=("regionsum5",),
            compute=sums,
        )

    return api


def _short(start: str | None, end: str | None) -> bool:
    """Whether an auto range would be read at 5 minutes (rooftop PV is half-hourly)."""
    if start is None and end is None:
        return True
    try:
        a = datetime.fromisoformat(start) if start else None
        b = datetime.fromisoformat(end) if end else None
    except ValueError:
        return False
    if a is None or b is None:
        return True
    return abs(b.replace(tzinfo=None) - a.replace(tzinfo=None)) <= timedelta(hours=48)
