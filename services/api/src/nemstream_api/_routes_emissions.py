"""Emissions and emissions intensity per region and NEM, and the units without an emission
factor (docs/emissions.md)."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field

from nemstream_api._history import ERRORS, FORMATS, History, RegionsParam, grid_of, regions_of
from nemstream_api._models import Counted, Interval, Page
from nemstream_api._params import Asked, Paged, Step, Window
from nemstream_api._respond import Rows, with_missing
from nemstream_market import REGIONS

UNITS = {
    "emissions_t": "t CO2-e",
    "generation_mwh": "MWh",
    "intensity": "t CO2-e/MWh",
    "rooftop_mwh": "MWh",
    "intensity_with_rooftop": "t CO2-e/MWh",
    "unfactored_mwh": "MWh",
}
"""Unit of each measure of `/v1/emissions`."""


class EmissionsRow(Counted):
    """A region's (or the NEM's) emissions over one row's period."""

    region: str = Field(description="NEM region, NEM for the whole market, UNKNOWN (see docs)")
    emissions_t: float | None = Field(
        description="t CO2-e: Σ positive SCADA MW × hours × the unit's CO2EII emission factor"
    )
    generation_mwh: float | None = Field(
        description="MWh sent out by units with an emission factor (positive MW only)"
    )
    intensity: float | None = Field(description="t CO2-e/MWh: emissions_t / generation_mwh")
    rooftop_mwh: float | None = Field(
        description="MWh of rooftop PV (null where no estimate covers every interval)"
    )
    intensity_with_rooftop: float | None = Field(
        description="t CO2-e/MWh: emissions_t / (generation_mwh + rooftop_mwh), rooftop PV "
        "counted as zero-emission generation"
    )
    unfactored_units: int | None = Field(
        description="units with SCADA but no emission factor (the most in any one interval): "
        "left out of both intensities, never counted as zero-emission"
    )
    unfactored_mwh: float | None = Field(description="MWh of the units with no factor")


class UnfactoredRow(Interval):
    """A unit with SCADA in the range and no emission factor."""

    duid: str = Field(description="dispatchable unit id")
    station_name: str | None = Field(description="station, from the unit registry")
    region: str = Field(description="region from the unit registry (unknown: none)")
    fuel: str = Field(description="fuel group from the unit registry (unknown: none)")
    intervals: int = Field(description="5-minute SCADA values of the unit in the range")
    mwh: float | None = Field(description="MWh: Σ positive MW × 5/60 h over the range")


def router(history: History) -> APIRouter:
    """The routes of this module."""
    api = APIRouter(tags=["history"])
    store = history.store

    @api.get(
        "/v1/emissions",
        summary="Emissions (t CO2-e) and intensity per region and NEM, 5-minute to daily",
        response_model=Page[EmissionsRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def emissions(
        request: Request,
        paged: Annotated[Asked, Depends()],
        region: RegionsParam = None,
    ) -> Response:
        """Emissions from 5-minute SCADA and AEMO's CO2EII emission factors (t CO2-e per MWh
        sent out), **summed** over each row's period; ``intensity`` is emissions over the
        generation of the units that have a factor, ``intensity_with_rooftop`` adds rooftop PV
        to that generation as zero-emission. Units without a factor are counted
        (``unfactored_units``, ``unfactored_mwh``), never treated as zero-emission. Regions:
        repeatable, ``NEM`` for the whole market; none: every region and the NEM."""
        asked_regions = sorted({str(r) for r in region or ()})
        combos = grid_of("region", asked_regions or [*REGIONS, "NEM"])

        def compute(asked: Window) -> Rows:
            answer = store.emissions(
                asked.start, asked.end, regions=asked_regions, resolution=asked.resolution
            )
            frame = answer.frame.filter(pl.col("region").is_in(combos["region"].to_list()))
            return Rows(
                with_missing(frame, asked, ("region",), combos),
                ("region",),
                "emissions",
                UNITS,
                {
                    "aggregation": "sums over the period; intensities from the sums",
                    "coverage": answer.coverage,
                },
            )

        return await history.answer(
            request, paged, tables=("emissions5", "rooftop"), compute=compute
        )

    @api.get(
        "/v1/emissions/unfactored",
        summary="Units with SCADA in a range and no emission factor (left out of intensity)",
        response_model=Page[UnfactoredRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def unfactored(
        request: Request,
        paged: Annotated[Paged, Depends()],
        region: RegionsParam = None,
    ) -> Response:
        """The units the CO2EII list has no factor for, over the trading days of the range,
        most energy first: they are counted in ``unfactored_units`` of `/v1/emissions`, never
        treated as zero-emission. One row per unit, the range as its interval."""
        regions = regions_of(region)

        def compute(asked: Window) -> Rows:
            frame = store.unfactored_units(asked.start, asked.end, regions=regions)
            span = int((asked.end - asked.start).total_seconds() // 60)
            frame = frame.with_columns(
                pl.lit(asked.end).cast(pl.Datetime("us")).alias("interval"),
                pl.lit(span, pl.Int64).alias("minutes"),
            )
            return Rows(frame, ("duid",), "unfactored_units", {"mwh": "MWh"})

        return await history.answer(
            request, paged, tables=("scada5",), resolution=Step.DAY, compute=compute
        )

    return api
