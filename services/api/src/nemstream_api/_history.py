"""History endpoints: the store through `nemstream_query`, one shape for every answer (see
`_respond`): validated range, null rows for missing intervals, ETag before any reading (a client
that holds the answer gets a 304 for the price of a manifest check)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import polars as pl
from cachetools import LRUCache
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from nemstream_api._models import (
    GenerationRow,
    InterconnectorRow,
    Page,
    PriceRow,
    Problem,
    RegionSumRow,
    RevenueRow,
    RooftopRow,
    TradingRow,
    UnitGenerationRow,
    UnitInfo,
    ValidationProblem,
)
from nemstream_api._params import (
    CursorParam,
    EndParam,
    Format,
    FormatParam,
    LimitParam,
    Limits,
    Region,
    ResolutionParam,
    StartParam,
    Step,
    Window,
    invalid,
    window,
)
from nemstream_api._respond import MEDIA, Rows, caching, not_modified, recent, respond, with_missing
from nemstream_api._security import Guard
from nemstream_api.settings import ApiSettings
from nemstream_market import (
    FIVE_MINUTE_SETTLEMENT_START,
    REGIONS,
    ROOFTOP_REGIONS,
    interconnector_regions,
)
from nemstream_query import Query as Store
from nemstream_query import Resolution, expected

ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified (If-None-Match held the current ETag)"},
    401: {"model": Problem, "description": "a key is needed or the key is unknown"},
    422: {"model": ValidationProblem, "description": "a parameter is not valid"},
    429: {"model": Problem, "description": "rate limit exceeded (see Retry-After)"},
}
FORMATS: dict[str, Any] = {"content": {MEDIA[Format.CSV]: {}, MEDIA[Format.PARQUET]: {}}}


class PriceKind(StrEnum):
    """Which prices."""

    DISPATCH = "dispatch"
    TRADING = "trading"


class By(StrEnum):
    """Generation by fuel or by unit."""

    FUEL = "fuel"
    UNIT = "unit"


class RevenueBy(StrEnum):
    """Revenue by station or by unit."""

    STATION = "station"
    UNIT = "unit"


RegionsParam = Annotated[
    list[Region] | None,
    Query(description="regions (repeatable); NEM or none: every region"),
]


def _regions(values: Sequence[Region] | None) -> list[str]:
    picked = [str(v) for v in values or () if str(v) != "NEM"]
    return sorted(set(picked))


@dataclass(slots=True)
class History:
    """What every history endpoint needs."""

    store: Store
    guard: Guard
    settings: ApiSettings
    limits: Limits
    newest_cache: LRUCache[tuple[object, ...], datetime | None]

    def newest(self, tables: Sequence[str]) -> datetime | None:
        """The newest interval of the tables (memoised per version: manifests are read once)."""
        key = (tuple(tables), self.store.engine.version(*tables))
        if key not in self.newest_cache:
            self.newest_cache[key] = self.store.latest(*tables)
        return self.newest_cache[key]

    async def answer(
        self,
        request: Request,
        *,
        tables: Sequence[str],
        start: str | None,
        end: str | None,
        resolution: Step,
        format_: Format,
        cursor: str | None,
        limit: int | None,
        compute: Callable[[Window], Rows],
        scale: float = 1.0,
    ) -> Response:
        """Validate, answer 304 when the client holds it, else compute in a worker thread and
        respond."""
        await self.guard.read(request)
        newest = self.newest(tables)
        asked = window(
            start,
            end,
            resolution,
            policy=self.store.policy,
            limits=self.limits,
            newest=newest,
            scale=scale,
        )
        version = (self.store.engine.version(*tables), self.store.engine.units_version)
        headers = caching(
            request,
            version,
            recent=recent(asked, newest),
            max_age=self.settings.api_cache_max_age_s,
            private=self.settings.api_require_key,
        )
        if (held := not_modified(request, headers)) is not None:
            return held
        rows = await asyncio.to_thread(compute, asked)
        return respond(
            request,
            rows,
            asked,
            format_,
            page_size=self.settings.api_page_size,
            cursor=cursor,
            limit=limit,
            headers=headers,
        )


def _combos(column: str, values: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame({column: list(values)}, schema={column: pl.String})


def router(history: History) -> APIRouter:
    """The history routes."""
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
        region: RegionsParam = None,
        kind: Annotated[
            PriceKind,
            Query(description="dispatch (resampled as asked) | trading (AEMO's trading prices)"),
        ] = PriceKind.DISPATCH,
        start: StartParam = None,
        end: EndParam = None,
        resolution: ResolutionParam = Step.AUTO,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
    ) -> Response:
        """RRP in $/MWh of the pricing run. Longer periods are the **time-weighted mean** of
        the 5-minute prices (AEMO's 30-minute price is defined so); every missing interval is a
        row with ``rrp`` null and ``intervals`` 0. ``kind=trading`` gives the trading prices
        as AEMO published them (30-minute before 1 Oct 2021, 5-minute after), not resampled."""
        regions = _regions(region)
        combos = _combos("region", regions or REGIONS)
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
                tables=("trading_prices",),
                start=start,
                end=end,
                resolution=resolution,
                format_=format,
                cursor=cursor,
                limit=limit,
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
            tables=("prices5", "prices30", "regionsum5"),
            start=start,
            end=end,
            resolution=resolution,
            format_=format,
            cursor=cursor,
            limit=limit,
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
        by: Annotated[By, Query(description="fuel | unit")] = By.FUEL,
        region: Annotated[Region, Query(description="a region, or NEM")] = Region["NEM"],
        duid: Annotated[
            list[str] | None, Query(description="units (by=unit; repeatable; default all)")
        ] = None,
        rooftop: Annotated[bool, Query(description="add rooftop PV as fuel `rooftop`")] = True,
        start: StartParam = None,
        end: EndParam = None,
        resolution: ResolutionParam = Step.AUTO,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
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
                tables=("scada5", "scada30", "daily_unit"),
                start=start,
                end=end,
                resolution=resolution,
                format_=format,
                cursor=cursor,
                limit=limit,
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
            tables=("scada5", "scada30", "rooftop", "daily_unit"),
            start=start,
            end=end,
            resolution=resolution,
            format_=format,
            cursor=cursor,
            limit=limit,
            compute=per_fuel,
        )

    @api.get(
        "/v1/interconnectors",
        summary="Interconnector flows",
        response_model=Page[InterconnectorRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def interconnectors(
        request: Request,
        region: Annotated[
            Region, Query(description="only interconnectors touching this region (NEM: all)")
        ] = Region["NEM"],
        start: StartParam = None,
        end: EndParam = None,
        resolution: ResolutionParam = Step.AUTO,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
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
            tables=("interconnector5", "interconnector30"),
            start=start,
            end=end,
            resolution=resolution,
            format_=format,
            cursor=cursor,
            limit=limit,
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
        region: Annotated[
            list[str] | None,
            Query(description="regions or sub-regions: " + ", ".join(ROOFTOP_REGIONS)),
        ] = None,
        subregions: Annotated[
            bool, Query(description="include QLDC, QLDN, QLDS, TASN, TASS")
        ] = True,
        start: StartParam = None,
        end: EndParam = None,
        resolution: Annotated[
            Step, Query(description="30min | day | auto (rooftop PV is half-hourly)")
        ] = Step.AUTO,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
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
        if resolution is Step.FIVE:
            invalid(
                "resolution", "rooftop PV is half-hourly: ask for 30min, day or auto", resolution
            )
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
            tables=("rooftop", "daily_rooftop"),
            start=start,
            end=end,
            resolution=Step.THIRTY
            if resolution is Step.AUTO and _short(start, end)
            else resolution,
            format_=format,
            cursor=cursor,
            limit=limit,
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
        region: RegionsParam = None,
        start: StartParam = None,
        end: EndParam = None,
        resolution: ResolutionParam = Step.AUTO,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
    ) -> Response:
        """Each MW measure is the **mean** over the row's period; ``demand_mwh`` the energy."""
        regions = _regions(region)
        combos = _combos("region", regions or REGIONS)

        def sums(asked: Window) -> Rows:
            answer = store.regionsum(
                asked.start, asked.end, regions=regions, resolution=asked.resolution
            )
            frame = with_missing(answer.frame, asked, ("region",), combos)
            units = {m: "MW (mean over the period)" for m in frame.columns if m.endswith("_mw")}
            return Rows(frame, ("region",), "regionsum", {**units, "demand_mwh": "MWh"})

        return await history.answer(
            request,
            tables=("regionsum5",),
            start=start,
            end=end,
            resolution=resolution,
            format_=format,
            cursor=cursor,
            limit=limit,
            compute=sums,
        )

    @api.get(
        "/v1/revenue",
        summary="Market revenue by station or unit over a range",
        response_model=Page[RevenueRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def revenue(
        request: Request,
        by: Annotated[RevenueBy, Query(description="station | unit")] = RevenueBy.STATION,
        region: RegionsParam = None,
        start: StartParam = None,
        end: EndParam = None,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
    ) -> Response:
        """Revenue = Σ MW × RRP × interval hours (5/60 or 30/60) over the trading days of the
        range, from the daily rollup; one row per station (or unit) with the range as its
        interval."""
        regions = _regions(region)

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
            tables=("daily_unit",),
            start=start,
            end=end,
            resolution=Step.DAY,
            format_=format,
            cursor=cursor,
            limit=limit,
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
