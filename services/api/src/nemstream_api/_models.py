"""Response shapes, as the OpenAPI schema declares them: units in every measure's description,
how each one is aggregated over a longer period, every row's interval pair."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Row = TypeVar("Row", bound=BaseModel)

_START = "start of the row's period, ISO 8601 in NEM time (+10:00, no daylight saving)"
_END = "end of the row's period (AEMO's interval-ending timestamp), ISO 8601, +10:00"


class Interval(BaseModel):
    """Every time-series row."""

    model_config = ConfigDict(extra="allow")

    interval_start: str = Field(description=_START)
    interval_end: str = Field(description=_END)
    minutes: int = Field(description="length of the row's period in minutes (5, 30, 1440)")


class Counted(Interval):
    """A row that averages: how many 5-minute values it stands on."""

    intervals: int = Field(
        description="5-minute values behind the row (0: a missing interval, its measures null)"
    )
    complete: bool = Field(description="whether the row has every 5-minute value of its period")


class PriceRow(Counted):
    """A regional dispatch price."""

    region: str = Field(description="NEM region (NSW1, QLD1, SA1, TAS1, VIC1)")
    rrp: float | None = Field(
        description="regional reference price, $/MWh, of the pricing run (INTERVENTION = 0). "
        "Over 30 minutes and days: the time-weighted mean of the 5-minute prices (each holds "
        "5 minutes; AEMO's 30-minute trading price is defined the same way)"
    )
    rrp_volume_weighted: float | None = Field(
        None,
        description="$/MWh: over 30 minutes and days, the volume-weighted mean Σ RRP × demand / "
        "Σ demand with the region's TOTALDEMAND as the volume (null where the store has no "
        "5-minute demand for the period); at 5 minutes, the price itself",
    )


class TradingRow(Interval):
    """A trading price as AEMO published it."""

    region: str = Field(description="NEM region")
    rrp: float | None = Field(description="trading price, $/MWh, as published (not resampled)")
    periodid: int | None = Field(None, description="trading period of the day (1-48 or 1-288)")
    price_status: str | None = Field(None, description="FIRM / NOT FIRM where given")


class GenerationRow(Counted):
    """Generation of one fuel in one region (or the NEM)."""

    region: str = Field(description="NEM region, or NEM for the whole market")
    fuel: str = Field(description="fuel group from the unit registry (unknown: not registered)")
    mw: float | None = Field(
        description="mean MW over the row's period (SCADA; rooftop PV as estimated); a mean, "
        "never a sum, whatever the resolution"
    )
    mwh: float | None = Field(description="energy, MWh: mean MW × the period's hours")


class UnitGenerationRow(Counted):
    """One unit's output."""

    duid: str = Field(description="dispatchable unit id")
    region: str = Field(description="the unit's region from the registry (unknown: none)")
    fuel: str = Field(description="fuel group from the registry")
    mw: float | None = Field(description="mean SCADA MW over the period (negative: consuming)")
    mwh: float | None = Field(description="energy, MWh, over the period")


class InterconnectorRow(Counted):
    """An interconnector's flow."""

    interconnectorid: str = Field(description="AEMO interconnector id, e.g. V-SA")
    meteredmwflow: float | None = Field(
        description="metered flow, MW (mean over the period); positive from the first region "
        "of the id to the second"
    )


class RooftopRow(Counted):
    """Rooftop PV of a region or a sub-region."""

    regionid: str = Field(description="region or sub-region (QLDC, QLDN, QLDS, TASN, TASS)")
    parent_region: str | None = Field(None, description="the region a sub-region is part of")
    is_subregion: bool | None = Field(
        None, description="a sub-region re-counts its region's panels: never add it to it"
    )
    mw: float | None = Field(description="mean MW over the period (AEMO's half-hour estimate)")


class RegionSumRow(Counted):
    """Regional demand and interchange."""

    region: str = Field(description="NEM region")
    demand_mw: float | None = Field(description="total demand, MW (mean over the period)")
    dispatchable_generation_mw: float | None = Field(description="MW (mean)")
    net_interchange_mw: float | None = Field(description="MW (mean), positive = export")
    available_generation_mw: float | None = Field(None, description="MW (mean)")
    curtailment_mw: float | None = Field(
        description="semi-scheduled solar + wind curtailment, MW (mean of UIGF − cleared, each "
        "clipped at 0; null before AEMO published the split)"
    )
    demand_mwh: float | None = Field(description="energy demanded over the period, MWh")


class RevenueRow(BaseModel):
    """Market revenue of a station or a unit over the range."""

    model_config = ConfigDict(extra="allow")

    interval_start: str = Field(description="start of the range, ISO 8601 (+10:00)")
    interval_end: str = Field(description="end of the range, ISO 8601 (+10:00)")
    station_name: str | None = Field(None, description="station")
    region: str | None = Field(None, description="NEM region")
    revenue_maud: float | None = Field(
        None, description="Σ MW × RRP × interval hours over the range, million AUD"
    )


class UnitInfo(BaseModel):
    """A unit in the registry."""

    model_config = ConfigDict(extra="allow")

    duid: str = Field(description="dispatchable unit id")
    station_name: str | None = Field(None, description="station")
    region: str | None = Field(None, description="NEM region")
    fuel: str | None = Field(None, description="fuel group")
    capacity_mw: float | None = Field(None, description="registered capacity, MW")


class Meta(BaseModel):
    """About the answer."""

    model_config = ConfigDict(extra="allow")

    resolution: str = Field(description="5min | 30min | day")
    minutes: int = Field(description="minutes per row")
    start: str = Field(description="range start (exclusive), ISO 8601 +10:00")
    end: str = Field(description="range end (inclusive), ISO 8601 +10:00")
    rows: int = Field(description="rows in this page")
    units: dict[str, str] = Field(description="unit of each measure column")


class Page(BaseModel, Generic[Row]):
    """One page of rows; `next` is the cursor of the following page (null: the last)."""

    meta: Meta
    data: list[Row]
    next: str | None = Field(description="pass as `cursor` for the next page")


class Latest(BaseModel, Generic[Row]):
    """The newest interval only."""

    source: str = Field(description="bus (the newest message) or store")
    sequence: int | None = Field(None, description="the bus message's stream sequence")
    data: list[Row]


class Problem(BaseModel):
    """An error the client can act on."""

    detail: str = Field(description="what went wrong and what to do")


class ValidationProblem(BaseModel):
    """A parameter that is not valid (FastAPI's shape)."""

    detail: list[dict[str, object]]
