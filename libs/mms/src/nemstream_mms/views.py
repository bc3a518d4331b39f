"""Typed views of the tables nemstream publishes, by AEMO column name, across table versions.

A view picks its table by name *and* sub-type (``DISPATCH,PRICE``, never any ``PRICE``), keeps
AEMO's column names in lower case, matches columns by name (never position: one version number
can carry different columns), and casts each to a fixed type. A column the view needs but the
table lacks is an error; an optional one absent from an older version is null. Every timestamp
is naive NEM time (UTC+10, no daylight saving), interval ending.

The same views read live 5-minute files, ARCHIVE zips, and MMSDM monthly files. Price and
region views also read ``DREGION`` (empty sub-type), the table of the legacy dispatch report
``PUBLIC_DISPATCH_<interval>_<made>_LEGACY.zip``, whose columns carry the same AEMO names
(SETTLEMENTDATE, RUNNO, REGIONID, INTERVENTION, RRP, TOTALDEMAND, ...). No legacy file is among
the real samples, so that path is checked only by column name, and a legacy file's DREGION
table is reported as not yet checked against real data.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from nemstream_market import DISPATCH_MINUTES, HALF_HOUR_MINUTES, REGIONS, predispatch_run_time
from nemstream_market import FIVE_MINUTE_SETTLEMENT_START as FIVE_MINUTE_SETTLEMENT_START
from nemstream_market import PRICING_RUN as PRICING_RUN
from nemstream_market import ROOFTOP_SUBREGIONS as ROOFTOP_SUBREGIONS
from nemstream_market import trading_interval_minutes as _trading_interval_minutes
from nemstream_mms._report import MmsReport
from nemstream_mms._view import Column as Column
from nemstream_mms._view import View as View
from nemstream_mms._view import build as build
from nemstream_mms._view import has_view as has_view

NEM_REGIONS = REGIONS
"""The five NEM regions, as REGIONID spells them (from `nemstream_market`)."""

LEGACY_REGION = ("DREGION", "")
"""The legacy dispatch report's regional table (prices and demand in one)."""

_DT = pl.Datetime("us")
_F = pl.Float64()
_I = pl.Int64()
_S = pl.String()


def _optional(*names: str, dtype: pl.DataType = _F) -> tuple[Column, ...]:
    return tuple(Column(n, dtype, required=False) for n in names)


_FCAS_RRPS = _optional(
    "raise6secrrp",
    "raise60secrrp",
    "raise5minrrp",
    "raiseregrrp",
    "lower6secrrp",
    "lower60secrrp",
    "lower5minrrp",
    "lowerregrrp",
    "raise1secrrp",
    "lower1secrrp",
)

DISPATCH_PRICE = View(
    name="dispatch_price",
    sources=(("DISPATCH", "PRICE"), LEGACY_REGION),
    columns=(
        Column("settlementdate", _DT),
        Column("runno", _I, required=False),
        Column("regionid", _S),
        Column("dispatchinterval", _I, required=False),
        Column("intervention", _I),
        Column("rrp", _F),
        *_optional("eep", "rop"),
        Column("apcflag", _I, required=False),
        Column("marketsuspendedflag", _I, required=False),
        Column("price_status", _S, required=False),
        *_FCAS_RRPS,
        Column("lastchanged", _DT, required=False),
    ),
    key=("settlementdate", "regionid", "intervention"),
)
"""5-minute regional prices (DISPATCH,PRICE). Both runs kept; INTERVENTION = 0 prices."""

DISPATCH_REGIONSUM = View(
    name="dispatch_regionsum",
    sources=(("DISPATCH", "REGIONSUM"), LEGACY_REGION),
    columns=(
        Column("settlementdate", _DT),
        Column("runno", _I, required=False),
        Column("regionid", _S),
        Column("dispatchinterval", _I, required=False),
        Column("intervention", _I),
        Column("totaldemand", _F),
        *_optional("availablegeneration", "availableload", "demandforecast"),
        Column("dispatchablegeneration", _F),
        Column("dispatchableload", _F, required=False),
        Column("netinterchange", _F),
        *_optional(
            "excessgeneration",
            "totalintermittentgeneration",
            "demand_and_nonschedgen",
            "uigf",
            "semischedule_clearedmw",
            "semischedule_compliancemw",
            "ss_solar_uigf",
            "ss_wind_uigf",
            "ss_solar_clearedmw",
            "ss_wind_clearedmw",
            "ss_solar_compliancemw",
            "ss_wind_compliancemw",
            "ss_solar_availability",
            "ss_wind_availability",
        ),
        Column("lastchanged", _DT, required=False),
    ),
    key=("settlementdate", "regionid", "intervention"),
)
"""5-minute regional demand, dispatchable generation, net interchange, and the semi-scheduled
solar/wind availability (UIGF) and cleared MW from which curtailment is derived."""

DISPATCH_INTERCONNECTOR = View(
    name="dispatch_interconnector",
    sources=(("DISPATCH", "INTERCONNECTORRES"),),
    columns=(
        Column("settlementdate", _DT),
        Column("runno", _I, required=False),
        Column("interconnectorid", _S),
        Column("dispatchinterval", _I, required=False),
        Column("intervention", _I),
        Column("meteredmwflow", _F),
        Column("mwflow", _F),
        Column("mwlosses", _F),
        *_optional(
            "marginalvalue",
            "violationdegree",
            "exportlimit",
            "importlimit",
            "marginalloss",
            "fcasexportlimit",
            "fcasimportlimit",
        ),
        Column("lastchanged", _DT, required=False),
    ),
    key=("settlementdate", "interconnectorid", "intervention"),
)
"""5-minute interconnector flows (metered and target MW, losses) with their limits."""

TRADING_PRICE = View(
    name="trading_price",
    sources=(("TRADING", "PRICE"),),
    columns=(
        Column("settlementdate", _DT),
        Column("runno", _I, required=False),
        Column("regionid", _S),
        Column("periodid", _I, required=False),
        Column("rrp", _F),
        *_optional("eep", "rop", "invalidflag"),
        Column("price_status", _S, required=False),
        *_FCAS_RRPS,
        Column("lastchanged", _DT, required=False),
    ),
    key=("settlementdate", "regionid"),
    derived=(Column("interval_minutes", _I),),
    derive=lambda frame: frame.with_columns(trading_interval_minutes_expr()),
)
"""Trading-interval prices: 5-minute from the interval ending 2021-10-01 00:05, 30-minute
before (five-minute settlement); ``interval_minutes`` says which."""

UNIT_SCADA = View(
    name="unit_scada",
    sources=(("DISPATCH", "UNIT_SCADA"),),
    columns=(
        Column("settlementdate", _DT),
        Column("duid", _S),
        Column("scadavalue", _F),
        Column("lastchanged", _DT, required=False),
    ),
    key=("settlementdate", "duid"),
)
"""5-minute SCADA MW per unit. Negative values are real (charging, pumping, auxiliary load)."""

ROOFTOP_ACTUAL = View(
    name="rooftop_actual",
    sources=(("ROOFTOP", "ACTUAL"),),
    columns=(
        Column("interval_datetime", _DT),
        Column("regionid", _S),
        Column("power", _F),
        Column("qi", _F, required=False),
        Column("type", _S),
        Column("lastchanged", _DT, required=False),
    ),
    key=("interval_datetime", "regionid", "type"),
    derived=(Column("parent_regionid", _S), Column("is_subregion", pl.Boolean())),
    derive=lambda frame: _with_parent_region(frame),
)
"""Half-hourly rooftop PV estimates, MEASUREMENT and SATELLITE kept apart, sub-regions kept
distinct: ``parent_regionid`` and ``is_subregion`` (see `ROOFTOP_SUBREGIONS`) so totals never
double count: sum only rows where ``is_subregion`` is false to get region totals."""

P5MIN_REGIONSOLUTION = View(
    name="p5min_regionsolution",
    sources=(("P5MIN", "REGIONSOLUTION"),),
    columns=(
        Column("run_datetime", _DT),
        Column("interval_datetime", _DT),
        Column("regionid", _S),
        Column("intervention", _I),
        Column("rrp", _F),
        Column("rop", _F, required=False),
        Column("totaldemand", _F),
        *_optional(
            "availablegeneration",
            "demandforecast",
            "dispatchablegeneration",
            "dispatchableload",
            "netinterchange",
            "excessgeneration",
        ),
        *_FCAS_RRPS,
        Column("lastchanged", _DT, required=False),
    ),
    key=("run_datetime", "interval_datetime", "regionid", "intervention"),
)
"""5-minute pre-dispatch: per run (RUN_DATETIME, the first interval it forecasts), each region's
forecast price and demand for the next 12 intervals (the run's own interval first)."""

PREDISPATCH_PRICE = View(
    name="predispatch_price",
    sources=(("PREDISPATCH", "REGION_PRICES"),),
    columns=(
        Column("predispatchseqno", _I),
        Column("runno", _I, required=False),
        Column("regionid", _S),
        Column("periodid", _I, required=False),
        Column("intervention", _I),
        Column("rrp", _F),
        Column("eep", _F, required=False),
        *_FCAS_RRPS,
        Column("lastchanged", _DT, required=False),
        Column("datetime", _DT),
    ),
    key=("run_datetime", "interval_datetime", "regionid", "intervention"),
    derived=(Column("run_datetime", _DT), Column("interval_datetime", _DT)),
    derive=lambda frame: _with_run_time(frame),
)
"""30-minute pre-dispatch: per run, each region's forecast price for every half hour (DATETIME,
ending) to the end of the next trading day. The run's time is not a column of the table: it is
read from PREDISPATCHSEQNO (trading day and period, see `predispatch_run_time`)."""

CO2EII_GENERATORS = View(
    name="co2eii_generators",
    sources=(("CO2EII", "PUBLISHING"),),
    columns=(
        Column("stationname", _S, required=False),
        Column("duid", _S),
        Column("gensetid", _S, required=False),
        Column("regionid", _S, required=False),
        Column("co2e_emissions_factor", _F),
        Column("co2e_energy_source", _S, required=False),
        Column("co2e_data_source", _S, required=False),
    ),
    key=("duid", "gensetid"),
)
"""AEMO's CO2EII generator list (CDEII folder): per generating set of a DUID, its emission
factor in t CO2-e per MWh sent out, energy source and where the factor came from."""

VIEWS = {
    v.name: v
    for v in (
        DISPATCH_PRICE,
        DISPATCH_REGIONSUM,
        DISPATCH_INTERCONNECTOR,
        TRADING_PRICE,
        UNIT_SCADA,
        ROOFTOP_ACTUAL,
        P5MIN_REGIONSOLUTION,
        PREDISPATCH_PRICE,
        CO2EII_GENERATORS,
    )
}
"""Every view by name."""


def dispatch_price(report: MmsReport) -> pl.DataFrame:
    """5-minute regional prices, both dispatch runs (filter INTERVENTION = 0 for prices)."""
    return build(report, DISPATCH_PRICE)


def dispatch_regionsum(report: MmsReport) -> pl.DataFrame:
    """5-minute regional demand, generation and net interchange."""
    return build(report, DISPATCH_REGIONSUM)


def dispatch_interconnector(report: MmsReport) -> pl.DataFrame:
    """5-minute interconnector flows and losses."""
    return build(report, DISPATCH_INTERCONNECTOR)


def trading_price(report: MmsReport) -> pl.DataFrame:
    """Trading-interval regional prices."""
    return build(report, TRADING_PRICE)


def unit_scada(report: MmsReport) -> pl.DataFrame:
    """5-minute SCADA MW per DUID, negative values kept."""
    return build(report, UNIT_SCADA)


def rooftop_actual(report: MmsReport) -> pl.DataFrame:
    """Half-hourly rooftop PV with `parent_regionid` and `is_subregion` so totals never double
    count: sum only rows where ``is_subregion`` is false to get region totals."""
    return build(report, ROOFTOP_ACTUAL)


def _with_parent_region(frame: pl.DataFrame) -> pl.DataFrame:
    regionid = frame.get_column("regionid")
    parent = regionid.replace_strict(
        ROOFTOP_SUBREGIONS, default=regionid, return_dtype=pl.String
    ).alias("parent_regionid")
    return frame.with_columns(
        parent, regionid.is_in(list(ROOFTOP_SUBREGIONS)).alias("is_subregion")
    )


def p5min_regionsolution(report: MmsReport) -> pl.DataFrame:
    """5-minute pre-dispatch forecast prices and demand, per run, interval and region."""
    return build(report, P5MIN_REGIONSOLUTION)


def predispatch_price(report: MmsReport) -> pl.DataFrame:
    """30-minute pre-dispatch forecast prices, per run, interval and region."""
    return build(report, PREDISPATCH_PRICE)


def _with_run_time(frame: pl.DataFrame) -> pl.DataFrame:
    seqnos = frame.get_column("predispatchseqno")
    runs = {seqno: predispatch_run_time(str(seqno)) for seqno in seqnos.unique().drop_nulls()}
    run = seqnos.replace_strict(runs, default=None, return_dtype=_DT).alias("run_datetime")
    return frame.with_columns(run, pl.col("datetime").alias("interval_datetime"))


def co2eii_generators(report: MmsReport) -> pl.DataFrame:
    """The CO2EII generator list: emission factor per DUID and generating set."""
    return build(report, CO2EII_GENERATORS)


def pricing_run(prices: pl.DataFrame) -> pl.DataFrame:
    """Keep only the pricing run (INTERVENTION = 0), the one to use for prices and revenue."""
    return prices.filter(pl.col("intervention") == PRICING_RUN)


def trading_interval_minutes(settlementdate: datetime) -> int:
    """Length of the trading interval ending at `settlementdate`: 5 minutes from five-minute
    settlement (interval ending 2021-10-01 00:05, NEM time) on, 30 before it."""
    return _trading_interval_minutes(settlementdate)


def trading_interval_minutes_expr(column: str = "settlementdate") -> pl.Expr:
    """`trading_interval_minutes` over a column of NEM-time timestamps."""
    return (
        pl.when(pl.col(column) >= FIVE_MINUTE_SETTLEMENT_START)
        .then(pl.lit(DISPATCH_MINUTES, dtype=pl.Int64))
        .otherwise(pl.lit(HALF_HOUR_MINUTES, dtype=pl.Int64))
        .alias("interval_minutes")
    )
