"""The other registry inputs: MMS registration tables and OpenNEM's ``stations.json``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from nemstream_mms import MmsError, read_report
from nemstream_registry import _labels as labels
from nemstream_registry._errors import RegistrySourceError
from nemstream_registry._schema import SCHEMA, empty_frame

_REGISTRATION = "PARTICIPANT_REGISTRATION"


def read_mms_tables(path: Path) -> dict[str, pl.DataFrame]:
    """The registration tables (DUDETAILSUMMARY, DUDETAIL, STATION) an MMS file carries."""
    try:
        report = read_report(path)
        found = {
            key.subtype: report.table(key.table, key.subtype)
            for key in report.tables
            if key.table == _REGISTRATION
            and key.subtype in {"DUDETAILSUMMARY", "DUDETAIL", "STATION"}
        }
    except MmsError as exc:
        raise RegistrySourceError(path, str(exc)) from exc
    if not found:
        raise RegistrySourceError(path, "no DUDETAILSUMMARY, DUDETAIL or STATION table")
    return found


def _latest(frame: pl.DataFrame, by: str, order: list[str], now: datetime | None) -> pl.DataFrame:
    """Each key's row in force at `now` (or its latest), by the given date columns."""
    if now is not None and "START_DATE" in frame.columns:
        active = frame.filter(
            (pl.col("START_DATE") <= now)
            & (pl.col("END_DATE").is_null() | (pl.col("END_DATE") > now))
        )
        frame = pl.concat([active, frame.join(active.select(by), on=by, how="anti")])
    return frame.sort(order, nulls_last=False).unique(subset=by, keep="last", maintain_order=True)


def registry_from_mms(
    tables: dict[str, pl.DataFrame], source: str, now: datetime | None = None
) -> pl.DataFrame:
    """Registry rows from MMS: DUDETAILSUMMARY gives region, station and dispatch type;
    STATION names the station; DUDETAIL gives registered and maximum capacity."""
    summary = tables.get("DUDETAILSUMMARY")
    if summary is None:
        return empty_frame()
    rows = _latest(summary, "DUID", ["DUID", "START_DATE"], now)
    region = pl.col("REGIONID").str.strip_chars().str.to_uppercase()
    kind = pl.col("DISPATCHTYPE").str.strip_chars().str.to_lowercase()
    out = rows.select(
        pl.col("DUID").str.strip_chars().str.to_uppercase().alias("duid"),
        pl.col("STATIONID").alias("stationid"),
        pl.when(region.is_in(labels.NEM_REGIONS)).then(region).alias("region"),
        pl.when(kind.is_in(labels.DISPATCH_TYPES)).then(kind).alias("dispatch_type"),
    )
    station = tables.get("STATION")
    if station is not None:
        names = station.select(
            pl.col("STATIONID").alias("stationid"),
            pl.col("STATIONNAME").str.strip_chars().alias("station_name"),
        ).unique("stationid", keep="last")
        out = out.join(names, on="stationid", how="left")
    detail = tables.get("DUDETAIL")
    if detail is not None:
        caps = _latest(detail, "DUID", ["DUID", "EFFECTIVEDATE", "VERSIONNO"], None).select(
            pl.col("DUID").str.strip_chars().str.to_uppercase().alias("duid"),
            pl.col("REGISTEREDCAPACITY").cast(pl.Float64).alias("capacity_mw"),
            pl.col("MAXCAPACITY").cast(pl.Float64).alias("max_capacity_mw"),
        )
        out = out.join(caps, on="duid", how="left")
    return _conform(out.drop("stationid"), f"mms:{source}")


def read_opennem(path: Path) -> pl.DataFrame:
    """Registry rows for NEM facilities in OpenNEM's ``stations.json`` (WEM ones dropped)."""
    try:
        stations: Any = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistrySourceError(path, f"not readable JSON: {exc}") from exc
    if not isinstance(stations, list):
        raise RegistrySourceError(path, "expected a list of stations")
    rows: dict[str, dict[str, Any]] = {}
    for station in stations:
        if not isinstance(station, dict):
            continue
        for facility in station.get("facilities") or []:
            if not isinstance(facility, dict) or facility.get("network_id") != "NEM":
                continue
            if facility.get("interconnector"):
                continue
            duid = labels.text(facility.get("code"))
            if duid is None:
                continue
            duid = duid.upper()
            row = {
                "duid": duid,
                "station_name": labels.text(station.get("name")),
                "region": labels.region(facility.get("network_region")),
                "fuel": labels.opennem_fuel(facility.get("fueltech_id")),
                "technology": labels.text(facility.get("fueltech_id")),
                "dispatch_type": labels.dispatch_type(facility.get("dispatch_type")),
                "capacity_mw": labels.capacity(facility.get("capacity_registered")),
            }
            previous = rows.get(duid)
            # a DUID listed twice (a battery's charge and discharge sides): keep the generator
            if previous is None or previous["dispatch_type"] == "load":
                rows[duid] = row
    frame = pl.DataFrame(list(rows.values())) if rows else pl.DataFrame()
    return _conform(frame, f"opennem:{path.name}")


def _conform(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Give any partial frame the registry's columns and types, plus its source."""
    if frame.is_empty():
        return empty_frame().with_columns(pl.lit(source).alias("source"))
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in SCHEMA.items()
    ]
    return frame.select(columns).with_columns(pl.lit(source).alias("source"))
