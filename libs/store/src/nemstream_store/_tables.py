"""The store's tables: which subject fills each, its time column and key, and message → rows.

A table's columns are not listed here: they are derived from its subject's contract (the row
model's fields, the message's own fields such as rooftop's ``type``, and for a 30-minute table
the key and measure it averages), so a field added to a contract is a column of its table, and
`message_frame` refuses a message whose rows would not fit. Column order: the time column, the
key, the row's other fields in contract order, the message's fields, then ``intervals`` (30-minute
tables) and ``source_file``.

Time rule (every table): timestamps are naive NEM time (UTC+10, no daylight saving), interval
ending. Rows are partitioned by month (``month=YYYY-MM``) of the interval's *start*, so the
interval ending at midnight on the 1st stays with the month it belongs to.

A message carries one interval of one table (rooftop: one interval of one estimate type); it is
the *unit* the writer stores or replaces as a whole: a message for a unit already stored with
the same values is a duplicate (dropped), with different values a correction (replaces it).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import polars as pl
from pydantic import AwareDatetime, BaseModel

from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_INTERCONNECTOR_30MIN,
    DISPATCH_PRICE,
    DISPATCH_PRICE_30MIN,
    DISPATCH_REGIONSUM,
    EMISSIONS_REGION,
    P5MIN_PRICE,
    PREDISPATCH_PRICE,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    SCADA_UNIT_30MIN,
    SUBJECTS,
    TRADING_PRICE,
    Message,
    ThirtyMinute,
    row_model,
    units_of,
)
from nemstream_market import naive_nem

_BOOKKEEPING = frozenset(Message.model_fields) | {"rows"}
"""Fields every message has (or its rows): not columns of their own."""


class SchemaMismatch(ValueError):
    """A message whose rows carry a field its table has no column for."""


def polars_type(annotation: Any) -> pl.DataType:
    """The column type of a contract field's annotation (``X | None`` is X, nullable)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"no single column type for {annotation!r}")
        return polars_type(inner[0])
    if origin is typing.Annotated:
        return polars_type(get_args(annotation)[0])
    if origin is Literal:
        kinds = {type(v) for v in get_args(annotation)}
        if len(kinds) != 1:
            raise TypeError(f"mixed literal types in {annotation!r}")
        return polars_type(kinds.pop())
    simple: dict[Any, pl.DataType] = {
        bool: pl.Boolean(),
        int: pl.Int64(),
        float: pl.Float64(),
        str: pl.String(),
        datetime: pl.Datetime("us"),
    }
    if annotation in simple:
        return simple[annotation]
    if annotation is AwareDatetime:  # a row's own time (a forecast's interval), stored naive
        return pl.Datetime("us")
    raise TypeError(f"no column type for {annotation!r}")


def _is_time(annotation: Any) -> bool:
    try:
        return polars_type(annotation) == pl.Datetime("us")
    except TypeError:
        return False


def _field_types(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items() if name not in skip}


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of the store: its name, the subject that fills it, its time column, its key,
    what it holds and the length of its intervals. Columns come from the subject's contract."""

    name: str
    subject: str
    time: str
    key: tuple[str, ...]
    description: str
    interval_minutes: int = 5

    @property
    def contract(self) -> type[Message]:
        """The message model of the table's subject."""
        return SUBJECTS[self.subject].model

    @property
    def message_columns(self) -> tuple[str, ...]:
        """Fields of the message itself (not of its rows) that become columns: rooftop's
        estimate ``type``, trading's ``interval_minutes``."""
        if SUBJECTS[self.subject].mean is not None:
            return ()
        return tuple(n for n in self.contract.model_fields if n not in _BOOKKEEPING)

    @property
    def unit(self) -> tuple[str, ...]:
        """Columns fixing one message's rows: the time, and message columns in the key."""
        return (self.time, *(c for c in self.message_columns if c in self.key))

    @property
    def row_times(self) -> tuple[str, ...]:
        """Row fields that are instants of their own (a forecast's interval): stored naive."""
        rows = row_model(self.contract)
        if rows is None or SUBJECTS[self.subject].mean is not None:
            return ()
        return tuple(n for n, f in rows.model_fields.items() if _is_time(f.annotation))

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Column name -> type, derived from the contract (see the module docstring)."""
        return dict(_derived_schema(self))

    @property
    def value_columns(self) -> list[str]:
        """Columns that are neither key nor bookkeeping."""
        return [c for c in self.schema if c not in self.key and c != "source_file"]

    @property
    def units(self) -> dict[str, str]:
        """Unit of measure of each measured column (from the contract)."""
        mean = SUBJECTS[self.subject].mean
        if mean is not None:
            source = row_model(SUBJECTS[mean.source].model)
            assert source is not None
            unit = units_of(source).get(mean.measure)
            return {mean.measure: unit} if unit else {}
        rows = row_model(self.contract)
        return {**units_of(self.contract), **(units_of(rows) if rows else {})}


def derive_schema(table: TableSpec) -> dict[str, pl.DataType]:
    """A table's columns from its subject's contract."""
    contract = SUBJECTS[table.subject]
    columns: dict[str, Any]
    extra: dict[str, Any] = {}
    mean = contract.mean
    if mean is not None:
        source = row_model(SUBJECTS[mean.source].model)
        assert source is not None
        fields = _field_types(source)
        columns = {mean.key: fields[mean.key], mean.measure: float}
        extra["intervals"] = int
    else:
        rows = row_model(contract.model)
        assert rows is not None, f"{table.subject} carries no rows"
        columns = _field_types(rows)
        columns.update(_field_types(contract.model, _BOOKKEEPING))
    ordered: dict[str, Any] = {table.time: datetime}
    for name in table.key:
        if name != table.time:
            ordered[name] = columns[name]
    ordered.update({n: t for n, t in columns.items() if n not in ordered})
    ordered.update(extra)
    ordered["source_file"] = str
    return {name: polars_type(annotation) for name, annotation in ordered.items()}


_derived_schema = cache(derive_schema)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "prices5",
            DISPATCH_PRICE,
            "settlementdate",
            ("settlementdate", "regionid", "intervention"),
            "5-minute regional prices, both dispatch runs (use intervention = 0 for prices)",
        ),
        TableSpec(
            "regionsum5",
            DISPATCH_REGIONSUM,
            "settlementdate",
            ("settlementdate", "regionid", "intervention"),
            "5-minute regional demand, generation, interchange; semi-scheduled availability "
            "(UIGF) and cleared MW, whose difference is curtailment",
        ),
        TableSpec(
            "interconnector5",
            DISPATCH_INTERCONNECTOR,
            "settlementdate",
            ("settlementdate", "interconnectorid", "intervention"),
            "5-minute interconnector metered and target flows, losses, and the limits",
        ),
        TableSpec(
            "trading_prices",
            TRADING_PRICE,
            "settlementdate",
            ("settlementdate", "regionid"),
            "trading-interval prices: 5-minute from 2021-10-01 00:05, 30-minute before",
        ),
        TableSpec(
            "scada5",
            SCADA_UNIT,
            "settlementdate",
            ("settlementdate", "duid"),
            "5-minute SCADA MW per unit (negative: charging, pumping, auxiliary load)",
        ),
        TableSpec(
            "rooftop",
            ROOFTOP_ACTUAL,
            "interval_datetime",
            ("interval_datetime", "regionid", "type"),
            "half-hourly rooftop PV per region and sub-region (never add sub-regions to their "
            "region), MEASUREMENT and SATELLITE estimates",
            interval_minutes=30,
        ),
        TableSpec(
            "p5min",
            P5MIN_PRICE,
            "run_datetime",
            ("run_datetime", "interval_datetime", "regionid", "intervention"),
            "5-minute pre-dispatch forecasts: per run (run_datetime, its first interval), each "
            "region's forecast price and demand for the next hour",
        ),
        TableSpec(
            "predispatch",
            PREDISPATCH_PRICE,
            "run_datetime",
            ("run_datetime", "interval_datetime", "regionid", "intervention"),
            "30-minute pre-dispatch forecasts: per run (every half hour), each region's forecast "
            "price for every half hour to the end of the next trading day",
            interval_minutes=30,
        ),
        TableSpec(
            "emissions5",
            EMISSIONS_REGION,
            "settlementdate",
            ("settlementdate", "regionid"),
            "5-minute emissions (t CO2-e) per region from SCADA and the CO2EII factors, the "
            "generation of units with a factor, and the units without one (docs/emissions.md)",
        ),
        TableSpec(
            "scada30",
            SCADA_UNIT_30MIN,
            "settlementdate",
            ("settlementdate", "duid"),
            "30-minute mean SCADA MW per unit and the number of 5-minute values in the mean",
            interval_minutes=30,
        ),
        TableSpec(
            "prices30",
            DISPATCH_PRICE_30MIN,
            "settlementdate",
            ("settlementdate", "regionid"),
            "30-minute mean of the 5-minute pricing-run RRP per region",
            interval_minutes=30,
        ),
        TableSpec(
            "interconnector30",
            DISPATCH_INTERCONNECTOR_30MIN,
            "settlementdate",
            ("settlementdate", "interconnectorid"),
            "30-minute mean metered flow per interconnector",
            interval_minutes=30,
        ),
    )
}
"""Every table the writer keeps, by name."""

BY_SUBJECT: dict[str, TableSpec] = {t.subject: t for t in TABLES.values()}


def scan_rows(paths: Sequence[str | Path], schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    """Parts read in a table's current schema: a column the contract gained after a part was
    written reads as null there, one it lost is left out. Adding a column needs no migration."""
    return pl.scan_parquet(
        [str(p) for p in paths], schema=schema, missing_columns="insert", extra_columns="ignore"
    )


def read_rows(paths: Sequence[str | Path], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`scan_rows`, collected."""
    return scan_rows(paths, schema).collect()


def month_of(interval: datetime) -> str:
    """Partition of an interval (ending): the month its first minute falls in."""
    return (interval - timedelta(minutes=1)).strftime("%Y-%m")


def message_frame(table: TableSpec, message: Message) -> pl.DataFrame:
    """The rows one message gives a table, in the table's schema, exact repeats of a row
    dropped (`Message.unique_rows`; the contract refuses conflicting ones); `SchemaMismatch`
    when a row carries a field the table has no column for: nothing is dropped without a word."""
    schema = table.schema
    unique, _ = message.unique_rows()
    rows: list[dict[str, Any]] = [row.model_dump() for row in unique]
    if table.row_times:
        rows = [{**r, **{c: naive_nem(r[c]) for c in table.row_times}} for r in rows]
    mean = SUBJECTS[table.subject].mean
    if isinstance(message, ThirtyMinute) and mean is not None:
        rows = [
            {mean.key: r["key"], mean.measure: r["mean"], "intervals": r["intervals"]} for r in rows
        ]
    unknown = {name for row in rows for name in row} - schema.keys()
    if unknown:
        raise SchemaMismatch(
            f"{table.subject} rows carry {sorted(unknown)}, which table {table.name} has no "
            "column for"
        )
    extra: dict[str, object] = {
        table.time: naive_nem(message.interval),
        "source_file": message.source_file,
        **{name: getattr(message, name) for name in table.message_columns},
    }
    columns = {name: [row.get(name, extra.get(name)) for row in rows] for name in schema}
    return pl.DataFrame(columns, schema=schema).sort(list(table.key))


def unit_name(table: TableSpec, message: Message) -> str:
    """Identity of the unit a message fills: its interval, and the message columns in the key
    (rooftop's estimate type)."""
    stamp = naive_nem(message.interval).isoformat()
    parts = [str(getattr(message, column)) for column in table.unit[1:]]
    return "|".join([stamp, *parts])
