"""The registry table: one row per DUID.

| column | meaning |
|---|---|
| duid | dispatchable unit id, upper case, unique |
| station_name | station the unit belongs to |
| region | NEM region id (NSW1, QLD1, SA1, TAS1, VIC1) |
| fuel | coal, gas, hydro, wind, solar, battery, biomass, liquid or other (null: unknown) |
| technology | AEMO's technology descriptor (OpenNEM: its fueltech id) |
| dispatch_type | generator, load or bidirectional |
| capacity_mw | registered capacity, MW (generation side) |
| source | input the row came from: ``aemo_list:<file>``, ``mms:<file>``, ``opennem:<file>`` |
| participant | registered participant (AEMO list, OpenNEM: null) |
| classification | Scheduled / Semi-Scheduled / Non-Scheduled (AEMO list) |
| fuel_source | AEMO's "Fuel Source - Primary" as written |
| fuel_descriptor | AEMO's "Fuel Source - Descriptor" as written |
| max_capacity_mw | maximum capacity, MW (AEMO list, MMS DUDETAIL) |
| storage_mwh | maximum storage capacity, MWh (2026 list, bidirectional units) |
| units | physical unit numbers the DUID covers (AEMO list) |
"""

from __future__ import annotations

import polars as pl

SCHEMA: dict[str, pl.DataType] = {
    "duid": pl.String(),
    "station_name": pl.String(),
    "region": pl.String(),
    "fuel": pl.String(),
    "technology": pl.String(),
    "dispatch_type": pl.String(),
    "capacity_mw": pl.Float64(),
    "participant": pl.String(),
    "classification": pl.String(),
    "fuel_source": pl.String(),
    "fuel_descriptor": pl.String(),
    "max_capacity_mw": pl.Float64(),
    "storage_mwh": pl.Float64(),
    "units": pl.String(),
}
"""Columns every source produces, before `source` is added."""

COLUMNS = (
    "duid",
    "station_name",
    "region",
    "fuel",
    "technology",
    "dispatch_type",
    "capacity_mw",
    "source",
    "participant",
    "classification",
    "fuel_source",
    "fuel_descriptor",
    "max_capacity_mw",
    "storage_mwh",
    "units",
)
"""Column order of the registry file: the eight the issue fixes, then the extras."""


def empty_frame() -> pl.DataFrame:
    """A frame of the source schema with no rows."""
    return pl.DataFrame(schema=SCHEMA)
