"""The reader's three ways through a block give the same frames, and archives of zips read."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from polars.testing import assert_frame_equal

from nemstream_mms import _blocks, _reader, iter_reports, read_report, views
from nemstream_testing import SampleSet, names

SAMPLES = [
    names.DISPATCHIS_2025,
    names.DISPATCHIS_2020,
    names.DVD_STATION,
    names.DVD_DUDETAIL,
    names.DVD_TRADINGINTERCONNECT,
    names.SCADA,
]


def _all_tables(data: bytes) -> dict[str, object]:
    report = read_report(data)
    return {str(key): report.tables[key] for key in report.tables}


@pytest.mark.parametrize("name", SAMPLES)
def test_python_series_and_polars_paths_agree(
    samples: SampleSet, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples.path(name).read_bytes()
    default = _all_tables(data)
    forced: dict[str, dict[str, object]] = {}
    for label, polars_min, python_max in [
        ("python", 1 << 40, 1 << 40),
        ("series", 1 << 40, 0),
        ("polars", 0, 0),
    ]:
        monkeypatch.setattr(_blocks, "POLARS_MIN_BYTES", polars_min)
        monkeypatch.setattr(_blocks, "PYTHON_MAX_CELLS", python_max)
        forced[label] = _all_tables(data)
    for label, tables in forced.items():
        assert tables.keys() == default.keys(), label
        for key, frame in tables.items():
            assert_frame_equal(frame, default[key], check_dtypes=True), (label, key)  # type: ignore[arg-type]


def test_careful_path_agrees_when_rows_span_lines(samples: SampleSet) -> None:
    data = samples.path(names.DVD_STATION).read_bytes()
    baseline = read_report(data).table("PARTICIPANT_REGISTRATION", "STATION")
    # a quoted field holding a line break and a comma forces the row-by-row reader
    first = baseline["STATIONNAME"][0]
    edited = data.replace(f'"{first}"'.encode(), f'"{first}\r\n, Pty"'.encode(), 1)
    report = read_report(
        edited.replace(b'C,"END OF REPORT",', b'C,"END OF REPORT",1', 1), strict=False
    )
    stations = report.table("PARTICIPANT_REGISTRATION", "STATION")
    assert stations["STATIONNAME"][0] == f"{first}\r\n, Pty"
    assert_frame_equal(stations[1:], baseline[1:])


def _day_archive(samples: SampleSet, files: list[str]) -> bytes:
    """A zip of real 5-minute zips, as NEMWeb's ARCHIVE folders hold them (built at test time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in files:
            archive.writestr(name, samples.path(name).read_bytes())
    return buffer.getvalue()


def test_archive_zip_of_zips(samples: SampleSet) -> None:
    inner = [names.ROOFTOP_MEASUREMENT, names.ROOFTOP_SATELLITE]
    archive = _day_archive(samples, inner)
    members = list(iter_reports(archive, name="PUBLIC_ROOFTOP_PV_ACTUAL_20240303.zip"))
    assert [m.name.split("!")[1] for m in members] == inner
    merged = read_report(archive, name="PUBLIC_ROOFTOP_PV_ACTUAL_20240303.zip")
    rooftop = views.rooftop_actual(merged)
    assert rooftop.height == 20
    assert set(rooftop["interval_datetime"]) == {
        datetime(2024, 3, 3, 19, 30),
        datetime(2023, 9, 2, 18, 0),
    }
    # every row still knows which inner file and line it came from
    key = next(iter(merged.tables))
    assert merged.locate(key, 0) == (members[0].name, 3)
    assert merged.locate(key, 10) == (members[1].name, 3)


def test_a_zip_on_disk_reads_as_its_bytes(samples: SampleSet, tmp_path: Path) -> None:
    """A zip given by path is read from disk (not loaded whole first): the same reports."""
    archive = _day_archive(samples, [names.ROOFTOP_MEASUREMENT, names.ROOFTOP_SATELLITE])
    path = tmp_path / "PUBLIC_ROOFTOP_PV_ACTUAL_20240303.zip"
    path.write_bytes(archive)
    on_disk = read_report(path)
    in_memory = read_report(archive, name=path.name)
    assert on_disk.members == in_memory.members
    for key in in_memory.tables:
        assert_frame_equal(on_disk.tables[key], in_memory.tables[key])


def test_a_monthly_file_replaced_while_read_in_place_is_read_as_opened(
    samples: SampleSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large single-table file is mapped, and polars reads its block by path: if the path
    names another file by then (the mirror replaced it), the open file is read into memory
    instead, so header, rows and footer all come from the file that was opened."""
    data = samples.path(names.DVD_TRADINGINTERCONNECT).read_bytes()
    path = tmp_path / "PUBLIC_DVD_TRADINGINTERCONNECT.CSV"
    path.write_bytes(data)
    read_block = _blocks._read_block

    def replacing(*args: Any, **kwargs: Any) -> Any:
        newer = tmp_path / "newer.CSV"
        newer.write_bytes(data.replace(b"NSW1-QLD1", b"NSW1-QLDX"))
        os.replace(newer, path)  # as a mirror swaps in a new version
        return read_block(*args, **kwargs)

    monkeypatch.setattr(_blocks, "_read_block", replacing)
    report = read_report(path)
    expected = read_report(data, name=path.name)
    frame = report.table("TRADING", "INTERCONNECTORRES")
    assert "NSW1-QLD1" in frame["INTERCONNECTORID"].to_list()
    assert_frame_equal(frame, expected.table("TRADING", "INTERCONNECTORRES"))
    assert report.warnings == expected.warnings


def test_a_monthly_file_is_read_in_place(samples: SampleSet, tmp_path: Path) -> None:
    """The large single-table file given by path is not read into memory: polars reads its
    block from the file (and the same frame comes back as from its bytes)."""
    data = samples.path(names.DVD_TRADINGINTERCONNECT).read_bytes()
    path = tmp_path / "PUBLIC_DVD_TRADINGINTERCONNECT[1].CSV"  # a glob character, kept as is
    path.write_bytes(data)
    with mock.patch.object(_reader, "read_csv_bytes", wraps=_reader.read_csv_bytes) as spy:
        report = read_report(path)
    assert not spy.called
    expected = read_report(data, name=path.name)
    assert_frame_equal(
        report.table("TRADING", "INTERCONNECTORRES"),
        expected.table("TRADING", "INTERCONNECTORRES"),
    )
