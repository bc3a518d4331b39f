"""Property tests: damage real samples at random; the reader returns data or an MmsError.

Never any other exception: a fetcher can always quarantine a bad file and carry on.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nemstream_mms import (
    CorruptContainerError,
    MmsError,
    iter_reports,
    read_report,
    summarise,
    views,
)
from nemstream_testing import SampleSet, names

SMALL = [
    names.DISPATCHIS_2025,
    names.DISPATCHIS_2020,
    names.TRADINGIS,
    names.SCADA,
    names.ROOFTOP_MEASUREMENT,
    names.DVD_STATION,
]
LARGE = names.DVD_DUDETAIL  # over the polars threshold: the big-block path

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# bytes that matter to the format, plus arbitrary ones
_INTERESTING = st.sampled_from(
    [b",", b'"', b"\r", b"\n", b"\r\n", b"D,", b"I,", b"C,", b"0", b"x", b"\x00", b"\xff", b""]
)
_NOISE = st.one_of(_INTERESTING, st.binary(min_size=1, max_size=8))


def _exercise(data: bytes, name: str) -> None:
    """Everything a consumer might do with a file; only MmsError may escape."""
    try:
        report = read_report(data, name=name)
        for key in report.tables:
            report.tables[key].height  # noqa: B018 - forces typing of every table
        for view in views.VIEWS.values():
            if views.has_view(report, view):
                views.build(report, view)
                if view is views.ROOFTOP_ACTUAL:
                    views.rooftop_actual(report)
        summarise(data, name=name)
        for member in iter_reports(data, name=name, strict=False):
            member.warnings  # noqa: B018
    except MmsError as exc:
        event(type(exc).__name__)
        assert exc.file.startswith(name)
        assert str(exc)
    else:
        event("read")


def _outcome(source: bytes | Path, name: str) -> tuple[Any, ...]:
    """What reading gives: every table typed, row lines and warnings; or the error."""
    try:
        report = read_report(source, name=name, strict=False)
        frames = {key: report.tables[key].to_dicts() for key in report.tables}
    except CorruptContainerError as exc:  # its message quotes zipfile's, which differs
        return ("error", type(exc).__name__, exc.file, exc.line)
    except MmsError as exc:
        return ("error", type(exc).__name__, exc.file, exc.line, str(exc))
    lines = {
        str(key): [report.locate(key, row) for row in range(0, len(rows), 53)]
        for key, rows in frames.items()
    }
    return ("read", frames, lines, [(w.code, w.line, w.message) for w in report.warnings])


def _same_on_disk(data: bytes, name: str) -> None:
    """A file read from disk (a large CSV in place, a zip without reading it into memory first)
    gives what its bytes give."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name.rsplit("/", 1)[-1]
        path.write_bytes(data)
        assert _outcome(path, path.name) == _outcome(data, path.name)


def _plain(samples: SampleSet, name: str) -> bytes:
    data = samples.path(name).read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read(zf.namelist()[0])
    return data


@pytest.mark.parametrize("name", SMALL)
@SETTINGS
@given(data=st.data())
def test_random_edits_of_small_reports(samples: SampleSet, name: str, data: st.DataObject) -> None:
    original = _plain(samples, name)
    edited = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        position = data.draw(st.integers(0, len(edited)), label="position")
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if action == "insert":
            edited[position:position] = data.draw(_NOISE)
        elif action == "delete":
            edited[position : position + data.draw(st.integers(1, 200))] = b""
        elif action == "replace":
            edited[position : position + 1] = data.draw(_NOISE)
        else:
            del edited[position:]
    _exercise(bytes(edited), name)


@pytest.mark.parametrize("name", SMALL[:3])
@SETTINGS
@given(data=st.data())
def test_random_line_shuffles(samples: SampleSet, name: str, data: st.DataObject) -> None:
    lines = _plain(samples, name).split(b"\r\n")
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        j = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["duplicate", "drop", "swap"]))
        if action == "duplicate":
            lines.insert(j, lines[i])
        elif action == "drop" and len(lines) > 1:
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
    _exercise(b"\r\n".join(lines), name)


@SETTINGS
@given(data=st.data())
def test_random_edits_of_a_large_report(samples: SampleSet, data: st.DataObject) -> None:
    edited = bytearray(samples.path(LARGE).read_bytes())
    position = data.draw(st.integers(0, len(edited)))
    action = data.draw(st.sampled_from(["insert", "replace", "truncate"]))
    if action == "insert":
        edited[position:position] = data.draw(_NOISE)
    elif action == "replace":
        edited[position : position + 1] = data.draw(_NOISE)
    else:
        del edited[position:]
    _exercise(bytes(edited), LARGE)
    _same_on_disk(bytes(edited), LARGE)


@pytest.mark.parametrize("name", [n for n in SMALL if n.endswith(".zip")])
@SETTINGS
@given(data=st.data())
def test_random_damage_to_zips(samples: SampleSet, name: str, data: st.DataObject) -> None:
    edited = bytearray(samples.path(name).read_bytes())
    position = data.draw(st.integers(0, len(edited)))
    if data.draw(st.booleans(), label="truncate"):
        del edited[position:]
    else:
        edited[position : position + 1] = data.draw(st.binary(min_size=1, max_size=4))
    _exercise(bytes(edited), name)
    _same_on_disk(bytes(edited), name)
