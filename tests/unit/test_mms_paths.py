"""The reader's three ways through a block give the same frames, and archives of zips read."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from polars.testing import assert_frame_equal

from nemstream_mms import _blocks, iter_reports, read_report, views
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
