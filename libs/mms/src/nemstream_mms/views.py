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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from nemstream_market import DISPATCH_MINUTES, HALF_HOUR_MINUTES, REGIONS
from nemstream_market import FIVE_MINUTE_SETTLEMENT_START as FIVE_MINUTE_SETTLEMENT_START
from nemstream_market import PRICING_RUN as PRICING_RUN
from nemstream_market import ROOFTOP_SUBREGIONS as ROOFTOP_SUBREGIONS
from nemstream_market import trading_interval_minutes as _trading_interval_minutes
from nemstream_mms._errors import MissingColumnError, TableNotFoundError, ValueTypeError
from nemstream_mms._report import MmsReport, TableKey

NEM_REGIONS = REGIONS
"""The five NEM regions, as REGIONID spells them (from `nemstream_market`)."""

LEGACY_REGION = ("DREGION", "")
"""The legacy dispatch report's regional table (prices and demand in one)."""

_DT = pl.Datetime("us")
_F = pl.Float64()
_I = pl.Int64()
_S = pl.String()


@dataclass(frozen=True, slots=True)
class Column:
    """One view column: its AEMO name (lower case), type, and whether the view needs it."""

    name: str
    dtype: pl.DataType
    required: bool = True

    @property
    def source(self) -> str:
        """The column's name in the MMS table (upper case, as in the I row)."""
        return self.name.upper()


@dataclass(frozen=True, slots=True)
class View:
    """A typed view: which tables feed it, its columns, the columns that key a row, and the
    columns it derives from them (`derive` adds exactly `derived`)."""

    name: str
    sources: tuple[tuple[str, str], ...]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    derived: tuple[Column, ...] = ()
    derive: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Column name to polars type, in view order (derived columns last)."""
        return {c.name: c.dtype for c in (*self.columns, *self.derived)}


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

VIEWS = {
    v.name: v
    for v in (
        DISPATCH_PRICE,
        DISPATCH_REGIONSUM,
        DISPATCH_INTERCONNECTOR,
        TRADING_PRICE,
        UNIT_SCADA,
        ROOFTOP_ACTUAL,
    )
}
"""Every view by name."""


def has_view(report: MmsReport, view: View) -> bool:
    """Tell whether a report carries any table this view reads."""
    return any(report.keys(table, subtype) for table, subtype in view.sources)


def build(report: MmsReport, view: View) -> pl.DataFrame:
    """Select and type a view's columns from every version of its tables in a report."""
    keys = [k for table, subtype in view.sources for k in report.keys(table, subtype)]
    if not keys:
        wanted = " or ".join(f"{t},{s}" for t, s in view.sources)
        raise TableNotFoundError(report.name, f"{view.name}: no {wanted} table in this report")
    frames = [_select(report, key, view) for key in keys]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    return view.derive(frame) if view.derive is not None else frame


def _select(report: MmsReport, key: TableKey, view: View) -> pl.DataFrame:
    table = report.tables[key]
    present = set(table.columns)
    out: list[pl.Series] = []
    for column in view.columns:
        if column.source not in present:
            if column.required:
                raise MissingColumnError(
                    report.name,
                    f"{view.name}: table {key} has no {column.source} column",
                )
            out.append(pl.Series(column.name, [None] * table.height, dtype=column.dtype))
            continue
        series = table.get_column(column.source)
        out.append(_cast(report, key, series, column))
    return pl.DataFrame(out)


def _cast(report: MmsReport, key: TableKey, series: pl.Series, column: Column) -> pl.Series:
    if series.dtype == column.dtype:
        return series.alias(column.name)
    cast = series.cast(column.dtype, strict=False)
    if cast.null_count() != series.null_count():
        row = (cast.is_null() & series.is_not_null()).arg_max()
        assert row is not None
        where = report.locate(key, row)
        value = str(series[row])
        raise ValueTypeError(
            where[0] if where else report.name,
            f"{key} column {column.source}: {value!r} is not a valid {column.dtype}",
            line=where[1] if where else None,
            column=column.source,
            value=value,
        )
    return cast.alias(column.name)


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
