"""AEMO's NEM Registration and Exemption List (.xls 2017–2021 layout, .xlsx 2026 layout).

The generator sheet is "Generators and Scheduled Loads" in older lists and "PU and Scheduled
Loads" in newer ones; columns are found by name. One DUID can take several rows, one per group
of physical units: the DUID's registered capacity is either on its first row with ``-`` on the
others (AGLHAL, ARWF1) or split across the groups (COOPGWF1: 174 + 53 + 156 + 69 MW), so a
DUID's capacity is the sum of its rows' numbers, counting a row that repeats another row's
capacities only once (the 2026 list lists ADPBA1 twice with the same 7.76 MW).
"""

from __future__ import annotations

import re
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl

from nemstream_registry import _labels as labels
from nemstream_registry._errors import RegistrySourceError
from nemstream_registry._schema import empty_frame

_SHEETS = ("pu and scheduled loads", "generators and scheduled loads")
_COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("participant",),
    "station_name": ("station name",),
    "region": ("region",),
    "dispatch_type": ("dispatch type",),
    "classification": ("classification",),
    "fuel_primary": ("fuel source - primary",),
    "fuel_descriptor": ("fuel source - descriptor",),
    "technology_primary": ("technology type - primary",),
    "technology": ("technology type - descriptor",),
    "units": ("units", "physical unit no."),
    "duid": ("duid",),
    "reg_cap": ("reg cap generation (mw)", "reg cap (mw)"),
    "max_cap": ("max cap generation (mw)", "max cap (mw)"),
    "storage": ("maximum storage capacity",),
}


def _key(header: object) -> str:
    return re.sub(r"\s+", " ", str(header or "")).strip().lower()


def list_date(path: Path) -> datetime | None:
    """When the list was last saved (workbook properties, UTC), to tell which list is newest."""
    try:
        if path.suffix.lower() == ".xlsx":
            with zipfile.ZipFile(path) as book:
                core = book.read("docProps/core.xml").decode("utf-8", "replace")
            found = re.search(r"<dcterms:modified[^>]*>([^<]+)<", core)
            if not found:
                return None
            moment = datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
            return moment.astimezone(UTC).replace(tzinfo=None)
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            saved = ole.get_metadata().last_saved_time
        return saved if isinstance(saved, datetime) else None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _sheet(reader: Any, path: Path) -> pl.DataFrame:
    names = {_key(name): name for name in reader.sheet_names}
    name = next((names[s] for s in _SHEETS if s in names), None)
    if name is None:
        raise RegistrySourceError(path, "no 'PU and Scheduled Loads' / 'Generators...' sheet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame: pl.DataFrame = reader.load_sheet(name, dtypes="string").to_polars()
    return frame


def read_aemo_list(path: Path) -> pl.DataFrame:
    """One row per DUID from a registration list, in the registry's tidy columns."""
    try:
        reader = fastexcel.read_excel(str(path))
        raw = _sheet(reader, path)
    except RegistrySourceError:
        raise
    except Exception as exc:  # fastexcel raises its own error types for unreadable books
        raise RegistrySourceError(path, f"cannot read workbook: {exc}") from exc
    by_key = {_key(c): c for c in raw.columns}
    found = {
        field: next((by_key[a] for a in aliases if a in by_key), None)
        for field, aliases in _COLUMNS.items()
    }
    if found["duid"] is None:
        raise RegistrySourceError(path, "generator sheet has no DUID column")
    rows: dict[str, dict[str, Any]] = {}
    seen_caps: dict[str, set[tuple[float | None, float | None]]] = {}
    for record in raw.iter_rows(named=True):
        value = {f: (record[c] if c else None) for f, c in found.items()}
        duid = labels.text(value["duid"])
        if duid is None:
            continue  # "-" placeholders
        duid = duid.upper()
        reg, peak = labels.capacity(value["reg_cap"]), labels.capacity(value["max_cap"])
        row = rows.get(duid)
        if row is None:
            row = rows[duid] = {
                "duid": duid,
                "station_name": labels.text(value["station_name"]),
                "region": labels.region(value["region"]),
                "fuel": labels.aemo_fuel(
                    value["fuel_primary"], value["fuel_descriptor"], value["technology"]
                ),
                "technology": labels.text(value["technology"]),
                "dispatch_type": labels.dispatch_type(value["dispatch_type"]),
                "capacity_mw": None,
                "participant": labels.text(value["participant"]),
                "classification": labels.text(value["classification"]),
                "fuel_source": labels.text(value["fuel_primary"]),
                "fuel_descriptor": labels.text(value["fuel_descriptor"]),
                "max_capacity_mw": None,
                "storage_mwh": labels.capacity(value["storage"]),
                "units": labels.text(value["units"]),
            }
            seen_caps[duid] = set()
        else:
            extra_units = labels.text(value["units"])
            if extra_units and row["units"] and extra_units not in row["units"].split("; "):
                row["units"] = f"{row['units']}; {extra_units}"
        if (reg, peak) not in seen_caps[duid] and (reg is not None or peak is not None):
            seen_caps[duid].add((reg, peak))
            if reg is not None:
                row["capacity_mw"] = (row["capacity_mw"] or 0.0) + reg
            if peak is not None:
                row["max_capacity_mw"] = (row["max_capacity_mw"] or 0.0) + peak
    frame = (
        pl.DataFrame(list(rows.values()), schema=empty_frame().schema) if rows else empty_frame()
    )
    return frame.with_columns(pl.lit(f"aemo_list:{path.name}").alias("source"))
