"""Emissions of each 5-minute SCADA interval, per region: ``nem.emissions.region.v1``.

Rules (docs/emissions.md): a unit's energy in an interval is its SCADA MW × 5/60 h, only where
the MW is positive (charging, pumping and auxiliary load never reduce emissions nor add
generation); its emissions are that energy × its factor (t CO2-e per MWh sent out, from the
CO2EII list, see `nemstream_registry.read_co2eii`). A unit with a factor is placed in the region
the list gives it; a unit without one in the region the unit registry gives it, else
``UNKNOWN``: it is counted and its energy given, never treated as zero-emission. Every NEM
region has a row (zeros where nothing ran); ``UNKNOWN`` only when it holds a unit.

The factor and unit tables are files the refresher and the registry write; they are read again
whenever their modification time changes, so a new list applies from the next interval on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prometheus_client import Counter

from nemstream_contracts import UNKNOWN_REGION, EmissionsRegion, EmissionsRow, UnitScada
from nemstream_market import REGIONS
from nemstream_registry import emission_factors_path
from nemstream_runtime import get_logger

log = get_logger(__name__)

HOURS = 5 / 60
"""Hours in a 5-minute interval."""

SKIPPED = Counter(
    "nemstream_aggregator_emissions_skipped", "SCADA intervals with no emissions made", ["reason"]
)


@dataclass(frozen=True, slots=True)
class Factor:
    """A DUID's emission factor (t CO2-e/MWh sent out) and the region the list gives it."""

    factor: float
    region: str | None


@dataclass(slots=True)
class Computed:
    """One interval's rows, and the DUIDs that had no factor (for logs and tests)."""

    rows: list[EmissionsRow]
    unfactored: set[str] = field(default_factory=set)


def compute(
    scada: Iterable[tuple[str, float]],
    factors: Mapping[str, Factor],
    regions: Mapping[str, str | None],
    loads: Collection[str] = frozenset(),
) -> Computed:
    """Emissions per region of one interval's (DUID, MW) values; `loads` are the DUIDs the
    unit registry lists as loads: one with no factor is a consumer, counted apart."""
    sums: dict[str, list[float]] = {}  # region -> emissions, generation, unfactored MWh
    counts: dict[str, list[int]] = {}  # region -> factored, unfactored, load units
    unfactored: set[str] = set()
    for duid, mw in scada:
        energy = max(mw, 0.0) * HOURS
        known = factors.get(duid)
        if known is not None:
            region = known.region if known.region in REGIONS else regions.get(duid)
        else:
            region = regions.get(duid)
        place = region if region in REGIONS else UNKNOWN_REGION
        total = sums.setdefault(place, [0.0, 0.0, 0.0])
        count = counts.setdefault(place, [0, 0, 0])
        if known is None and duid in loads:  # a pump or a battery's charging unit
            count[2] += 1
            continue
        if known is None:
            unfactored.add(duid)
        if known is not None:
            total[0] += energy * known.factor
            total[1] += energy
            count[0] += 1
        else:
            total[2] += energy
            count[1] += 1
    rows = []
    for place in (*REGIONS, UNKNOWN_REGION):
        if place == UNKNOWN_REGION and place not in counts:
            continue
        emissions, generation, loose = sums.get(place, [0.0, 0.0, 0.0])
        factored, unknown, consumers = counts.get(place, [0, 0, 0])
        rows.append(
            EmissionsRow(
                regionid=place,
                emissions_t=emissions,
                generation_mwh=generation,
                intensity=emissions / generation if generation > 0 else None,
                factored_units=factored,
                unfactored_units=unknown,
                unfactored_mwh=loose,
                load_units=consumers,
            )
        )
    return Computed(rows, unfactored)


def factor_map(frame: pl.DataFrame) -> dict[str, Factor]:
    """DUID -> factor from the emission factor table."""
    return {
        duid: Factor(float(factor), region)
        for duid, factor, region in frame.select("duid", "factor", "regionid").iter_rows()
        if factor is not None
    }


def region_map(units: pl.DataFrame) -> dict[str, str | None]:
    """DUID -> region from the unit registry."""
    return dict(units.select("duid", "region").iter_rows())


def load_set(units: pl.DataFrame) -> frozenset[str]:
    """DUIDs the unit registry lists as loads (dispatch type ``load``)."""
    if "dispatch_type" not in units.columns:
        return frozenset()
    return frozenset(units.filter(pl.col("dispatch_type") == "load")["duid"].to_list())


def message_id(message: EmissionsRegion) -> str:
    """Id of an interval's emissions: interval and digest (new SCADA or factors: a new id)."""
    digest = hashlib.blake2b(message.model_dump_json().encode(), digest_size=12).hexdigest()
    return f"aggregator:emissions:{message.interval:%Y%m%d%H%M}:{digest}"


class _Watched:
    """A parquet file read again when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: int | None = None
        self.frame: pl.DataFrame | None = None

    def current(self) -> tuple[pl.DataFrame | None, bool]:
        """The newest readable frame, and whether it changed since the last call."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            changed, self.seen, self.frame = self.frame is not None, None, None
            return None, changed
        if stamp == self.seen:
            return self.frame, False
        try:
            frame = pl.read_parquet(self.path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            log.warning("emissions_table_unreadable", path=str(self.path), error=str(exc))
            return self.frame, False
        self.seen, self.frame = stamp, frame
        return frame, True


class Emissions:
    """SCADA messages in, emissions messages out, with the data directory's current tables."""

    def __init__(self, data_dir: Path) -> None:
        self.factors_file = _Watched(emission_factors_path(data_dir))
        self.units_file = _Watched(data_dir / "registry" / "units.parquet")
        self.factors: dict[str, Factor] = {}
        self.regions: dict[str, str | None] = {}
        self.loads: frozenset[str] = frozenset()
        self.source = ""

    def _reload(self) -> None:
        factors, changed = self.factors_file.current()
        if changed:
            self.factors = factor_map(factors) if factors is not None else {}
            self.source = str(factors["source_file"][0]) if factors is not None else ""
            log.info("emission_factors_loaded", units=len(self.factors), source=self.source)
        units, changed = self.units_file.current()
        if changed:
            self.regions = region_map(units) if units is not None else {}
            self.loads = load_set(units) if units is not None else frozenset()

    def message(self, scada: UnitScada) -> tuple[EmissionsRegion, set[str]] | None:
        """The interval's emissions and its unfactored DUIDs; None without a factor table."""
        self._reload()
        if not self.factors:
            SKIPPED.labels("no_factors").inc()
            return None
        rows, _ = scada.unique_rows()
        computed = compute(
            ((r.duid, r.scadavalue) for r in rows), self.factors, self.regions, self.loads
        )
        message = EmissionsRegion(
            feed="aggregator",
            source_file=scada.source_file,
            interval=scada.interval,
            factors_file=self.source,
            rows=computed.rows,
        )
        return message, computed.unfactored
