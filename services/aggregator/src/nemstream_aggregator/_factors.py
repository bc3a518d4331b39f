"""The emission factor refresher: the newest CO2EII generator list in NEMWeb's
/Reports/CURRENT/CDEII/ becomes ``<data dir>/registry/emission_factors.parquet``.

Each round lists the folder (conditionally: an unchanged listing costs a 304), picks the newest
``CO2EII_AVAILABLE_GENERATORS_<year>_<week>_<published>.CSV`` by its published time, and, when
that is not the file the table was built from, downloads it (the NEMWeb client's retries and
size cap), rebuilds the table and replaces it atomically. The aggregator runs it at start and
every ``NEMSTREAM_EMISSION_FACTORS_EVERY_S``. Before that, with no table yet, a list found in
``NEMSTREAM_SAMPLES_DIR`` seeds it (the offline demo: the mirror serves only a flat folder).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prometheus_client import Counter

from nemstream_nemweb import CDEII, NemwebClient, NemwebError, pick_new
from nemstream_registry import (
    RegistryError,
    read_co2eii,
    read_emission_factors,
    write_emission_factors,
)
from nemstream_runtime import get_logger

log = get_logger(__name__)

REFRESHES = Counter(
    "nemstream_aggregator_emission_factor_refreshes",
    "Emission factor refreshes by outcome",
    ["outcome"],
)


def built_from(path: Path) -> str | None:
    """The CO2EII file the table at `path` was built from (None: no readable table)."""
    try:
        frame = read_emission_factors(path)
    except (OSError, pl.exceptions.PolarsError):
        return None
    return str(frame["source_file"][0]) if frame.height else None


def seed_from_samples(samples_dir: Path | None, output: Path) -> str | None:
    """With no factor table yet, build it from the newest CO2EII list under `samples_dir` (the
    offline demo's samples, as the unit registry is built from them); returns the file used."""
    if samples_dir is None or output.exists() or not samples_dir.is_dir():
        return None
    found = sorted(
        (p for p in samples_dir.rglob("CO2EII_AVAILABLE_GENERATORS_*") if p.is_file()),
        key=lambda p: p.name[-18:],  # the published time: YYYYMMDDHHMMSS.CSV
    )
    if not found:
        return None
    try:
        factors = read_co2eii(found[-1])
    except RegistryError as exc:
        log.warning("emission_factors_seed_failed", file=found[-1].name, error=str(exc))
        return None
    write_emission_factors(factors, output)
    log.info("emission_factors_seeded", file=found[-1].name, units=factors.height)
    return found[-1].name


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What a look at the CDEII folder gave: the list the table was rebuilt from (None: nothing
    new), and whether the look itself worked (False: NEMWeb or the list failed; try again
    sooner than the refresh period)."""

    file: str | None
    ok: bool


async def check_factors(client: NemwebClient, output: Path) -> Refreshed:
    """Rebuild the factor table from the newest list in the CDEII folder if it changed."""
    try:
        entries = await client.list_feed(CDEII)
    except NemwebError as exc:
        REFRESHES.labels("unavailable").inc()
        log.warning("emission_factors_listing_failed", error=str(exc))
        return Refreshed(None, ok=False)
    lists = pick_new(entries, (), feed=CDEII)
    if not lists:
        REFRESHES.labels("no_list").inc()
        log.warning("emission_factors_no_list", folder=CDEII.path())
        return Refreshed(None, ok=True)
    newest = lists[-1]
    if await asyncio.to_thread(built_from, output) == newest.name:
        REFRESHES.labels("unchanged").inc()
        return Refreshed(None, ok=True)
    try:
        content = await client.download(newest)
        factors = await asyncio.to_thread(read_co2eii, content, newest.name)
    except (NemwebError, RegistryError) as exc:
        REFRESHES.labels("failed").inc()
        log.warning("emission_factors_refresh_failed", file=newest.name, error=str(exc))
        return Refreshed(None, ok=False)
    await asyncio.to_thread(write_emission_factors, factors, output)
    REFRESHES.labels("rebuilt").inc()
    log.info("emission_factors_rebuilt", file=newest.name, units=factors.height, output=str(output))
    return Refreshed(newest.name, ok=True)


async def refresh_factors(client: NemwebClient, output: Path) -> str | None:
    """Rebuild the factor table from the newest list if it changed; returns the file used
    (None: nothing new, no list in the folder, or the look failed)."""
    return (await check_factors(client, output)).file


RETRY_S = 300.0
"""After a failed look at the CDEII folder, try again this soon (not a whole period later)."""


class FactorRefresher:
    """The periodic job: looks every `RETRY_S` at most, but only once per `every_s` after a look
    that worked, so a NEMWeb outage at start-up delays the factors minutes, not hours."""

    def __init__(self, client: NemwebClient, output: Path, every_s: float) -> None:
        self.client = client
        self.output = output
        self.every_s = every_s
        self.last_ok: float | None = None

    @property
    def period(self) -> float:
        """How often the job runs: the retry delay, or the period when it is shorter."""
        return min(RETRY_S, self.every_s)

    async def __call__(self) -> None:
        """One run of the job: a look, unless the last good look is recent."""
        now = time.monotonic()
        if self.last_ok is not None and now - self.last_ok < self.every_s:
            return
        if (await check_factors(self.client, self.output)).ok:
            self.last_ok = now
