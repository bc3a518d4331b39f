"""The registry the system uses by default: built at first start, then reused.

Order of preference: ``$NEMSTREAM_DATA_DIR/registry/units.parquet`` if it exists; else build it
from the registry inputs in ``$NEMSTREAM_SAMPLES_DIR`` (the newest registration list there wins,
MMS registration tables and OpenNEM's ``stations.json`` fill gaps); else download AEMO's
published list (``$NEMSTREAM_REGISTRY_URL``) into the data folder and build from that. Nothing
derived from the samples is committed: the file is made on the machine that runs nemstream.

A failed download is remembered (``registry/.download-failed``) for
``NEMSTREAM_REGISTRY_RETRY_S``: until then the registry is reported unavailable at once, without
another network round trip (an offline machine does not wait, nor log a network error, on
every start).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import polars as pl
from pydantic import Field

from nemstream_registry._aemo_list import list_date
from nemstream_registry._build import build_registry, read_registry
from nemstream_registry._errors import RegistryUnavailable
from nemstream_runtime import NemstreamSettings, get_logger

log = get_logger(__name__)

AEMO_LIST_URL = (
    "https://www.aemo.com.au/-/media/files/electricity/nem/participant_information/"
    "nem-registration-and-exemption-list.xlsx"
)
_USER_AGENT = "nemstream/0.1 (unit registry; +https://github.com/nemstream/nemstream)"


class RegistrySettings(NemstreamSettings):
    """Where the default registry lives and what it is built from."""

    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: nemstream's data")
    samples_dir: Path | None = Field(None, description="folder of registry inputs to build from")
    registry_url: str = Field(AEMO_LIST_URL, description="AEMO's published registration list")
    registry_timeout: float = Field(60.0, gt=0, description="seconds to download the list")
    registry_retry_s: float = Field(
        3600.0, ge=0, description="after a failed download, seconds before trying again"
    )


def default_registry_path(settings: RegistrySettings) -> Path:
    """``<data dir>/registry/units.parquet``."""
    return settings.data_dir / "registry" / "units.parquet"


def _inputs(folder: Path) -> list[Path]:
    """Registry inputs in a folder (none if it does not exist): registration lists, MMS
    registration files, stations.json."""
    found: list[Path] = []
    if not folder.is_dir():
        return found
    tables = ("DUDETAILSUMMARY", "DUDETAIL_", "_STATION_")
    for path in sorted(folder.iterdir()):
        name, suffix = path.name.upper(), path.suffix.lower()
        is_list = suffix in {".xls", ".xlsx"} or path.name == "stations.json"
        is_mms = suffix in {".csv", ".zip"} and any(table in name for table in tables)
        if is_list or is_mms:
            found.append(path)
    return found


def newest_list(paths: list[Path]) -> Path | None:
    """The registration list saved last (workbook date, else file time)."""
    lists = [p for p in paths if p.suffix.lower() in {".xls", ".xlsx"}]
    if not lists:
        return None

    def saved(path: Path) -> float:
        when = list_date(path)
        return when.timestamp() if when else path.stat().st_mtime

    return max(lists, key=saved)


def _failure_marker(settings: RegistrySettings) -> Path:
    return settings.data_dir / "registry" / ".download-failed"


def _recent_failure(settings: RegistrySettings) -> str | None:
    """Why the last download failed, if it failed less than `registry_retry_s` ago."""
    marker = _failure_marker(settings)
    try:
        record = json.loads(marker.read_text("utf-8"))
        age = time.time() - float(record["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if age >= settings.registry_retry_s:
        return None
    retry = (settings.registry_retry_s - age) / 60
    return f"{record.get('error', '?')} ({age / 60:.0f} min ago; next try in {retry:.0f} min)"


def _download(settings: RegistrySettings) -> Path:
    target = settings.data_dir / "registry" / Path(settings.registry_url.split("?")[0]).name
    target.parent.mkdir(parents=True, exist_ok=True)
    missing = (
        f"no registry at {default_registry_path(settings)}, no registration list in "
        f"{settings.samples_dir or '(NEMSTREAM_SAMPLES_DIR unset)'}, and AEMO's list"
    )
    failed = _recent_failure(settings)
    if failed is not None:
        raise RegistryUnavailable(f"{missing} could not be downloaded: {failed}")
    try:
        with httpx.Client(
            headers={"User-Agent": _USER_AGENT},
            timeout=settings.registry_timeout,
            follow_redirects=True,
        ) as http:
            response = http.get(settings.registry_url)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        error = f"{settings.registry_url}: {exc}"
        _failure_marker(settings).write_text(json.dumps({"at": time.time(), "error": error}))
        raise RegistryUnavailable(f"{missing} could not be downloaded ({error})") from exc
    _failure_marker(settings).unlink(missing_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(response.content)
    partial.replace(target)
    log.info("registry_list_downloaded", url=settings.registry_url, bytes=len(response.content))
    return target


def load_registry(settings: RegistrySettings | None = None) -> pl.DataFrame:
    """The default registry, building (and saving) it first if it does not exist yet."""
    settings = settings or RegistrySettings()
    path = default_registry_path(settings)
    if path.exists():
        return read_registry(path)
    inputs = _inputs(settings.samples_dir) if settings.samples_dir else []
    if newest_list(inputs) is None:
        inputs.append(_download(settings))
    log.info("registry_building", output=str(path), sources=[p.name for p in inputs])
    registry, _ = build_registry(inputs, path, keep_going=True)
    return registry
