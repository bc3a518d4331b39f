"""Message bodies of every nemstream subject: one message = one interval of one feed.

Each carries the schema version, the feed, the NEMWeb file it came from, and the interval it is
about (interval *ending*, NEM time, ISO 8601 with ``+10:00``), then the rows of that interval -
all regions, all units or all interconnectors in it. Field names are AEMO's, lower case, so an
analyst can find them in the MMS data model report; a measured field says its unit of measure
(``unit`` in its JSON Schema, see `units_of`). Validation rejects what can never be valid (a
price that is not a finite number, an unknown region, a naive timestamp, an interval that is not
on the grid of its table: 5 minutes, or 30 for half-hourly tables).

The row models are the single declaration of each table's columns: the store's schema, the
fetcher's choice of columns and the JSON Schemas are all derived from them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from nemstream_market import NEM_TZ, REGIONS, ROOFTOP_REGIONS, on_grid

SCHEMA_VERSION: Literal[1] = 1


def _nem_time(value: datetime) -> datetime:
    return value.astimezone(NEM_TZ)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _one_of(values: tuple[str, ...]) -> str:
    return "^(" + "|".join(values) + ")$"


NemTime = Annotated[AwareDatetime, AfterValidator(_nem_time)]
"""A timezone-aware instant, normalised to NEM time (UTC+10)."""
Finite = Annotated[float, AfterValidator(_finite)]
Region = Annotated[
    str, Field(pattern=_one_of(REGIONS), description="NEM region id: " + ", ".join(REGIONS))
]
RooftopRegion = Annotated[
    str,
    Field(
        pattern=_one_of(ROOFTOP_REGIONS),
        description="NEM region or rooftop sub-region id: " + ", ".join(ROOFTOP_REGIONS),
    ),
]
Duid = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_\-#./]+$")]


def measure(unit: str, description: str = "", **kwargs: Any) -> Any:
    """A measured field: its unit of measure kept in the schema (``unit``) and its description,
    so tables, the API and the docs can say what a number means."""
    text = f"{description}, {unit}" if description else unit
    return Field(description=text, json_schema_extra={"unit": unit}, **kwargs)


def units_of(model: type[BaseModel]) -> dict[str, str]:
    """Unit of measure of every measured field of a model (field name -> unit)."""
    units = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get("unit"), str):
            units[name] = str(extra["unit"])
    return units


class Message(BaseModel):
    """What every message says about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grid_minutes: ClassVar[int] = 5
    """The grid an interval must lie on (5 minutes, or 30 for half-hourly subjects)."""
    row_key: ClassVar[tuple[str, ...]] = ()
    """Row fields that identify a row within the message: no two rows may share them with
    different values (exact repeats are tolerated here and dropped by `unique_rows`)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    feed: str = Field(description="fetcher feed (dispatch, trading, scada, rooftop) or service")
    source_file: str = Field(description="NEMWeb file the data came from")
    interval: NemTime = Field(description="interval ending, NEM time (+10:00)")

    def interval_grid(self) -> int:
        """Minutes between this message's intervals (its grid)."""
        return self.grid_minutes

    @model_validator(mode="after")
    def _interval_on_grid(self) -> Message:
        grid = self.interval_grid()
        if not on_grid(self.interval, grid):
            raise ValueError(
                f"interval {self.interval.isoformat()} is not on the {grid}-minute grid "
                "(an interval ends on a multiple of its length, seconds zero)"
            )
        return self

    @model_validator(mode="after")
    def _one_row_per_key(self) -> Message:
        rows: list[BaseModel] = getattr(self, "rows", [])
        if not self.row_key or not rows:
            return self
        first: dict[tuple[object, ...], int] = {}
        for index, row in enumerate(rows):
            key = tuple(getattr(row, name) for name in self.row_key)
            earlier = first.setdefault(key, index)
            if earlier != index and rows[earlier] != row:
                named = ", ".join(f"{n}={v}" for n, v in zip(self.row_key, key, strict=True))
                raise ValueError(
                    f"rows {earlier} and {index} share the key ({named}) with different values"
                )
        return self

    def unique_rows(self) -> tuple[list[Any], int]:
        """The rows without exact repeats (first kept), and how many repeats were dropped."""
        rows: list[Any] = list(getattr(self, "rows", []))
        if not self.row_key:
            return rows, 0
        seen: set[tuple[object, ...]] = set()
        kept = []
        for row in rows:
            key = tuple(getattr(row, name) for name in self.row_key)
            if key not in seen:
                seen.add(key)
                kept.append(row)
        return kept, len(rows) - len(kept)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- 5-minute and half-hourly events published by the fetchers --------------------------------


class DispatchPriceRow(_Row):
    """One region's dispatch price for the interval (one row per dispatch run)."""

    regionid: Region
    intervention: Literal[0, 1] = Field(description="0 = pricing run (use for prices)")
    rrp: Finite = measure("$/MWh", "regional reference price")
    runno: int | None = None
    price_status: str | None = Field(None, description="FIRM / NOT FIRM where present")
    apcflag: int | None = Field(
        None, description="1 = the administered price cap applied to this price, else 0"
    )
    marketsuspendedflag: int | None = Field(
        None, description="1 = the market was suspended in this region, else 0"
    )
    raise6secrrp: Finite | None = measure("$/MW", default=None)
    raise60secrrp: Finite | None = measure("$/MW", default=None)
    raise5minrrp: Finite | None = measure("$/MW", default=None)
    raiseregrrp: Finite | None = measure("$/MW", default=None)
    lower6secrrp: Finite | None = measure("$/MW", default=None)
    lower60secrrp: Finite | None = measure("$/MW", default=None)
    lower5minrrp: Finite | None = measure("$/MW", default=None)
    lowerregrrp: Finite | None = measure("$/MW", default=None)
    raise1secrrp: Finite | None = measure("$/MW", default=None)
    lower1secrrp: Finite | None = measure("$/MW", default=None)


class DispatchPrice(Message):
    """``nem.dispatch.price.v1``: every region's 5-minute price for one interval."""

    row_key: ClassVar[tuple[str, ...]] = ("regionid", "intervention")
    rows: list[DispatchPriceRow] = Field(min_length=1)


class RegionSumRow(_Row):
    """One region's demand and generation for the interval."""

    regionid: Region
    intervention: Literal[0, 1]
    totaldemand: Finite = measure("MW")
    dispatchablegeneration: Finite = measure("MW")
    netinterchange: Finite = measure("MW", "positive = export")
    availablegeneration: Finite | None = measure("MW", default=None)
    dispatchableload: Finite | None = measure("MW", default=None)
    demand_and_nonschedgen: Finite | None = measure("MW", default=None)
    uigf: Finite | None = measure("MW", "semi-scheduled availability (UIGF)", default=None)
    semischedule_clearedmw: Finite | None = measure("MW", default=None)
    ss_solar_uigf: Finite | None = measure("MW", default=None)
    ss_wind_uigf: Finite | None = measure("MW", default=None)
    ss_solar_clearedmw: Finite | None = measure("MW", default=None)
    ss_wind_clearedmw: Finite | None = measure("MW", default=None)


class DispatchRegionSum(Message):
    """``nem.dispatch.regionsum.v1``: every region's demand, generation and interchange."""

    row_key: ClassVar[tuple[str, ...]] = ("regionid", "intervention")
    rows: list[RegionSumRow] = Field(min_length=1)


class InterconnectorRow(_Row):
    """One interconnector's flow for the interval."""

    interconnectorid: str = Field(min_length=1, max_length=20)
    intervention: Literal[0, 1]
    meteredmwflow: Finite = measure("MW", "metered flow")
    mwflow: Finite = measure("MW", "target flow")
    mwlosses: Finite = measure("MW", "losses")
    exportlimit: Finite | None = measure("MW", default=None)
    importlimit: Finite | None = measure("MW", default=None)


class DispatchInterconnector(Message):
    """``nem.dispatch.interconnector.v1``: every interconnector's flows for one interval."""

    row_key: ClassVar[tuple[str, ...]] = ("interconnectorid", "intervention")
    rows: list[InterconnectorRow] = Field(min_length=1)


class TradingPriceRow(_Row):
    """One region's trading-interval price."""

    regionid: Region
    rrp: Finite = measure("$/MWh")
    periodid: int | None = None
    price_status: str | None = None


class TradingPrice(Message):
    """``nem.trading.price.v1``: every region's trading price (5-minute from 2021-10-01,
    30-minute before); ``interval_minutes`` says which."""

    row_key: ClassVar[tuple[str, ...]] = ("regionid",)
    interval_minutes: Literal[5, 30]
    rows: list[TradingPriceRow] = Field(min_length=1)

    def interval_grid(self) -> int:
        """A trading interval lies on its own length's grid."""
        return self.interval_minutes


class UnitScadaRow(_Row):
    """One unit's SCADA MW (negative: charging, pumping, auxiliary load)."""

    duid: Duid
    scadavalue: Finite = measure("MW")


class UnitScada(Message):
    """``nem.scada.unit.v1``: every unit's 5-minute SCADA MW for one interval."""

    row_key: ClassVar[tuple[str, ...]] = ("duid",)
    rows: list[UnitScadaRow] = Field(min_length=1)


class RooftopRow(_Row):
    """One region's (or sub-region's) rooftop PV estimate."""

    regionid: RooftopRegion
    power: Finite | None = measure("MW", "half-hour average; null where AEMO has no estimate")
    qi: Finite | None = Field(None, description="quality indicator")
    is_subregion: bool = Field(description="QLDC/QLDN/QLDS/TASN/TASS: never add to the region")


class RooftopActual(Message):
    """``nem.rooftop.actual.v1``: rooftop PV for one half hour, one estimate type."""

    grid_minutes: ClassVar[int] = 30
    row_key: ClassVar[tuple[str, ...]] = ("regionid",)

    type: Literal["MEASUREMENT", "SATELLITE"]
    rows: list[RooftopRow] = Field(min_length=1)


# --- 30-minute aggregates (the aggregator) ------------------------------------------------------


class MeanRow(_Row):
    """A 30-minute mean of the 5-minute values in (T-30 min, T], and how many it used."""

    key: str = Field(description="region, DUID or interconnector id")
    mean: Finite
    intervals: int = Field(ge=1, le=6, description="5-minute values averaged (6 when complete)")


class ThirtyMinute(Message):
    """``nem.<feed>.<table>.30min.v1``: 30-minute means of one table for one half hour."""

    grid_minutes: ClassVar[int] = 30
    row_key: ClassVar[tuple[str, ...]] = ("key",)

    table: str = Field(description="source subject's table, e.g. scada.unit")
    measure: str = Field(description="the averaged field, e.g. scadavalue or rrp")
    complete: bool = Field(description="every key has its six intervals")
    rows: list[MeanRow] = Field(min_length=1)


# --- alerts and registry --------------------------------------------------------------------------


class PriceAlert(Message):
    """``nem.alerts.price.v1``: a region's price state changed."""

    regionid: Region
    state: Literal["high", "extreme", "recovered"]
    previous_state: Literal["normal", "high", "extreme"]
    rrp: Finite = measure("$/MWh", "the price that made the change")
    threshold: Finite = measure("$/MWh", "the level it crossed")


class ForecastAlert(Message):
    """``nem.alerts.forecast.v1``: a region's early warning changed (``interval``: the newest
    run or price it was judged at)."""

    regionid: Region
    state: Literal["high", "extreme", "eased", "arrived", "passed"]
    previous_state: Literal["none", "high", "extreme"]
    episode: int = Field(ge=1, description="the region's warning episode, counted from 1")
    forecast_interval: NemTime | None = Field(
        None, description="interval ending (NEM time) the warning names; arrived: the price's"
    )
    rrp: Finite | None = measure(
        "$/MWh", "its forecast price (arrived: the dispatch price)", default=None
    )
    source: Literal["p5min", "predispatch", "dispatch"] | None = None
    threshold: Finite = measure("$/MWh", "the level warned about")


class NewDuid(Message):
    """``nem.registry.duid.v1``: a DUID seen in SCADA for the first time."""

    duid: Duid
    scadavalue: Finite | None = measure("MW", "output when first seen", default=None)
    station_name: str | None = None
    regionid: str | None = None
    fuel: str | None = None
    in_registry: bool
