"""Message bodies of every nemstream subject: one message = one interval of one feed.

Each carries the schema version, the feed, the NEMWeb file it came from, and the interval it is
about (interval *ending*, NEM time, ISO 8601 with ``+10:00``), then the rows of that interval -
all regions, all units or all interconnectors in it. Field names are AEMO's, lower case, so an
analyst can find them in the MMS data model report. Validation rejects what can never be valid
(a price that is not a finite number, an unknown region, a naive timestamp, an interval that is
not on the feed's grid).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

NEM_TZ = timezone(timedelta(hours=10), "NEM")
"""NEM time: UTC+10 all year (Australia/Brisbane has no daylight saving either)."""

SCHEMA_VERSION: Literal[1] = 1


def _nem_time(value: datetime) -> datetime:
    return value.astimezone(NEM_TZ)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


NemTime = Annotated[AwareDatetime, AfterValidator(_nem_time)]
"""A timezone-aware instant, normalised to NEM time (UTC+10)."""
Finite = Annotated[float, AfterValidator(_finite)]
Region = Annotated[str, Field(pattern=r"^[A-Z]{2,5}1$", description="NEM region id, e.g. NSW1")]
RooftopRegion = Annotated[
    str, Field(pattern=r"^(NSW1|QLD1|SA1|TAS1|VIC1|QLDC|QLDN|QLDS|TASN|TASS)$")
]
Duid = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_\-#./]+$")]


class Message(BaseModel):
    """What every message says about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    feed: str = Field(description="fetcher feed (dispatch, trading, scada, rooftop) or service")
    source_file: str = Field(description="NEMWeb file the data came from")
    interval: NemTime = Field(description="interval ending, NEM time (+10:00)")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- 5-minute and half-hourly events published by the fetchers --------------------------------


class DispatchPriceRow(_Row):
    """One region's dispatch price for the interval (one row per dispatch run)."""

    regionid: Region
    intervention: Literal[0, 1] = Field(description="0 = pricing run (use for prices)")
    rrp: Finite = Field(description="regional reference price, $/MWh")
    runno: int | None = None
    price_status: str | None = Field(None, description="FIRM / NOT FIRM where present")
    raise6secrrp: Finite | None = None
    raise60secrrp: Finite | None = None
    raise5minrrp: Finite | None = None
    raiseregrrp: Finite | None = None
    lower6secrrp: Finite | None = None
    lower60secrrp: Finite | None = None
    lower5minrrp: Finite | None = None
    lowerregrrp: Finite | None = None
    raise1secrrp: Finite | None = None
    lower1secrrp: Finite | None = None


class DispatchPrice(Message):
    """``nem.dispatch.price.v1``: every region's 5-minute price for one interval."""

    rows: list[DispatchPriceRow] = Field(min_length=1)


class RegionSumRow(_Row):
    """One region's demand and generation for the interval."""

    regionid: Region
    intervention: Literal[0, 1]
    totaldemand: Finite = Field(description="MW")
    dispatchablegeneration: Finite = Field(description="MW")
    netinterchange: Finite = Field(description="MW, positive = export")
    availablegeneration: Finite | None = None
    dispatchableload: Finite | None = None
    demand_and_nonschedgen: Finite | None = None
    uigf: Finite | None = Field(None, description="semi-scheduled availability (UIGF), MW")
    semischedule_clearedmw: Finite | None = None
    ss_solar_uigf: Finite | None = None
    ss_wind_uigf: Finite | None = None
    ss_solar_clearedmw: Finite | None = None
    ss_wind_clearedmw: Finite | None = None


class DispatchRegionSum(Message):
    """``nem.dispatch.regionsum.v1``: every region's demand, generation and interchange."""

    rows: list[RegionSumRow] = Field(min_length=1)


class InterconnectorRow(_Row):
    """One interconnector's flow for the interval."""

    interconnectorid: str = Field(min_length=1, max_length=20)
    intervention: Literal[0, 1]
    meteredmwflow: Finite = Field(description="metered MW flow")
    mwflow: Finite = Field(description="target MW flow")
    mwlosses: Finite = Field(description="MW losses")
    exportlimit: Finite | None = None
    importlimit: Finite | None = None


class DispatchInterconnector(Message):
    """``nem.dispatch.interconnector.v1``: every interconnector's flows for one interval."""

    rows: list[InterconnectorRow] = Field(min_length=1)


class TradingPriceRow(_Row):
    """One region's trading-interval price."""

    regionid: Region
    rrp: Finite = Field(description="$/MWh")
    periodid: int | None = None
    price_status: str | None = None


class TradingPrice(Message):
    """``nem.trading.price.v1``: every region's trading price (5-minute from 2021-10-01,
    30-minute before); ``interval_minutes`` says which."""

    interval_minutes: Literal[5, 30]
    rows: list[TradingPriceRow] = Field(min_length=1)


class UnitScadaRow(_Row):
    """One unit's SCADA MW (negative: charging, pumping, auxiliary load)."""

    duid: Duid
    scadavalue: Finite = Field(description="MW")


class UnitScada(Message):
    """``nem.scada.unit.v1``: every unit's 5-minute SCADA MW for one interval."""

    rows: list[UnitScadaRow] = Field(min_length=1)


class RooftopRow(_Row):
    """One region's (or sub-region's) rooftop PV estimate."""

    regionid: RooftopRegion
    power: Finite | None = Field(description="MW (null where AEMO has no estimate)")
    qi: Finite | None = Field(None, description="quality indicator")
    is_subregion: bool = Field(description="QLDC/QLDN/QLDS/TASN/TASS: never add to the region")


class RooftopActual(Message):
    """``nem.rooftop.actual.v1``: rooftop PV for one half hour, one estimate type."""

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
    rrp: Finite
    threshold: Finite


class NewDuid(Message):
    """``nem.registry.duid.v1``: a DUID seen in SCADA for the first time."""

    duid: Duid
    scadavalue: Finite | None = None
    station_name: str | None = None
    regionid: str | None = None
    fuel: str | None = None
    in_registry: bool
