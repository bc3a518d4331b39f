"""The store's tables: columns, key, the unit a message replaces, and message → rows.

Time rule (every table): timestamps are naive NEM time (UTC+10, no daylight saving), interval
ending. Rows are partitioned by month (``month=YYYY-MM``) of the interval's *start*, so the
interval ending at midnight on the 1st stays with the month it belongs to.

A message carries one interval of one table (rooftop: one interval of one estimate type); it is
the *unit* the writer stores or replaces as a whole: a message for a unit already stored with
the same values is a duplicate (dropped), with different values a correction (replaces it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_INTERCONNECTOR_30MIN,
    DISPATCH_PRICE,
    DISPATCH_PRICE_30MIN,
    DISPATCH_REGIONSUM,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    SCADA_UNIT_30MIN,
    TRADING_PRICE,
    Message,
    RooftopActual,
    ThirtyMinute,
    TradingPrice,
)

_DT = pl.Datetime("us")
_F = pl.Float64()
_I = pl.Int64()
_S = pl.String()
_B = pl.Boolean()


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of the store."""

    name: str
    subject: str
    time: str
    key: tuple[str, ...]
    unit: tuple[str, ...]  # columns fixing one message's rows: (time,) or (time, "type")
    schema: dict[str, pl.DataType]
    description: str
    units: dict[str, str] = field(default_factory=dict)  # column -> unit of measure
    interval_minutes: int = 5

    @property
    def value_columns(self) -> list[str]:
        """Columns that are neither key nor bookkeeping."""
        return [c for c in self.schema if c not in self.key and c != "source_file"]


_FCAS = [
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
]

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "prices5",
            DISPATCH_PRICE,
            "settlementdate",
            ("settlementdate", "regionid", "intervention"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "regionid": _S,
                "intervention": _I,
                "rrp": _F,
                "runno": _I,
                "price_status": _S,
                **{c: _F for c in _FCAS},
                "source_file": _S,
            },
            "5-minute regional prices, both dispatch runs (use intervention = 0 for prices)",
            {"rrp": "$/MWh", **{c: "$/MW" for c in _FCAS}},
        ),
        TableSpec(
            "regionsum5",
            DISPATCH_REGIONSUM,
            "settlementdate",
            ("settlementdate", "regionid", "intervention"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "regionid": _S,
                "intervention": _I,
                "totaldemand": _F,
                "dispatchablegeneration": _F,
                "netinterchange": _F,
                "availablegeneration": _F,
                "dispatchableload": _F,
                "demand_and_nonschedgen": _F,
                "uigf": _F,
                "semischedule_clearedmw": _F,
                "ss_solar_uigf": _F,
                "ss_wind_uigf": _F,
                "ss_solar_clearedmw": _F,
                "ss_wind_clearedmw": _F,
                "source_file": _S,
            },
            "5-minute regional demand, generation, interchange; semi-scheduled availability "
            "(UIGF) and cleared MW, whose difference is curtailment",
            {"*": "MW"},
        ),
        TableSpec(
            "interconnector5",
            DISPATCH_INTERCONNECTOR,
            "settlementdate",
            ("settlementdate", "interconnectorid", "intervention"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "interconnectorid": _S,
                "intervention": _I,
                "meteredmwflow": _F,
                "mwflow": _F,
                "mwlosses": _F,
                "exportlimit": _F,
                "importlimit": _F,
                "source_file": _S,
            },
            "5-minute interconnector metered and target flows, losses, and the limits",
            {"*": "MW"},
        ),
        TableSpec(
            "trading_prices",
            TRADING_PRICE,
            "settlementdate",
            ("settlementdate", "regionid"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "regionid": _S,
                "rrp": _F,
                "periodid": _I,
                "price_status": _S,
                "interval_minutes": _I,
                "source_file": _S,
            },
            "trading-interval prices: 5-minute from 2021-10-01 00:05, 30-minute before",
            {"rrp": "$/MWh"},
        ),
        TableSpec(
            "scada5",
            SCADA_UNIT,
            "settlementdate",
            ("settlementdate", "duid"),
            ("settlementdate",),
            {"settlementdate": _DT, "duid": _S, "scadavalue": _F, "source_file": _S},
            "5-minute SCADA MW per unit (negative: charging, pumping, auxiliary load)",
            {"scadavalue": "MW"},
        ),
        TableSpec(
            "rooftop",
            ROOFTOP_ACTUAL,
            "interval_datetime",
            ("interval_datetime", "regionid", "type"),
            ("interval_datetime", "type"),
            {
                "interval_datetime": _DT,
                "regionid": _S,
                "type": _S,
                "power": _F,
                "qi": _F,
                "is_subregion": _B,
                "source_file": _S,
            },
            "half-hourly rooftop PV per region and sub-region (never add sub-regions to their "
            "region), MEASUREMENT and SATELLITE estimates",
            {"power": "MW"},
            interval_minutes=30,
        ),
        TableSpec(
            "scada30",
            SCADA_UNIT_30MIN,
            "settlementdate",
            ("settlementdate", "duid"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "duid": _S,
                "scadavalue": _F,
                "intervals": _I,
                "source_file": _S,
            },
            "30-minute mean SCADA MW per unit and the number of 5-minute values in the mean",
            {"scadavalue": "MW"},
            interval_minutes=30,
        ),
        TableSpec(
            "prices30",
            DISPATCH_PRICE_30MIN,
            "settlementdate",
            ("settlementdate", "regionid"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "regionid": _S,
                "rrp": _F,
                "intervals": _I,
                "source_file": _S,
            },
            "30-minute mean of the 5-minute pricing-run RRP per region",
            {"rrp": "$/MWh"},
            interval_minutes=30,
        ),
        TableSpec(
            "interconnector30",
            DISPATCH_INTERCONNECTOR_30MIN,
            "settlementdate",
            ("settlementdate", "interconnectorid"),
            ("settlementdate",),
            {
                "settlementdate": _DT,
                "interconnectorid": _S,
                "meteredmwflow": _F,
                "intervals": _I,
                "source_file": _S,
            },
            "30-minute mean metered flow per interconnector",
            {"meteredmwflow": "MW"},
            interval_minutes=30,
        ),
    )
}
"""Every table the writer keeps, by name."""

BY_SUBJECT: dict[str, TableSpec] = {t.subject: t for t in TABLES.values()}

_THIRTY_KEY = {"scada30": "duid", "prices30": "regionid", "interconnector30": "interconnectorid"}


def month_of(interval: datetime) -> str:
    """Partition of an interval (ending): the month its first minute falls in."""
    return (interval - timedelta(minutes=1)).strftime("%Y-%m")


def message_frame(table: TableSpec, message: Message) -> pl.DataFrame:
    """The rows one message gives a table, in the table's schema."""
    interval = message.interval.replace(tzinfo=None)
    rows = [row.model_dump() for row in message.rows]  # type: ignore[attr-defined]
    if isinstance(message, ThirtyMinute):
        key = _THIRTY_KEY[table.name]
        value = next(
            c for c in table.schema if c not in (table.time, key, "intervals", "source_file")
        )
        rows = [{key: r["key"], value: r["mean"], "intervals": r["intervals"]} for r in rows]
    extra: dict[str, object] = {table.time: interval, "source_file": message.source_file}
    if isinstance(message, RooftopActual):
        extra["type"] = message.type
    if isinstance(message, TradingPrice):
        extra["interval_minutes"] = message.interval_minutes
    columns = {name: [row.get(name, extra.get(name)) for row in rows] for name in table.schema}
    return pl.DataFrame(columns, schema=table.schema).sort(list(table.key))


def unit_name(table: TableSpec, message: Message) -> str:
    """Identity of the unit a message fills (its interval, and the estimate type for rooftop)."""
    stamp = message.interval.replace(tzinfo=None).isoformat()
    return f"{stamp}|{message.type}" if isinstance(message, RooftopActual) else stamp
