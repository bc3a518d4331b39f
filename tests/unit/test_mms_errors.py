"""Bad input gets a typed error naming the file and line, or a warning and the rest of the data.

Every case starts from a real AEMO sample and damages it the way transfers and tools do.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from nemstream_mms import (
    CorruptContainerError,
    EmptyReportError,
    MalformedRowError,
    MissingColumnError,
    MmsError,
    TableKey,
    TableNotFoundError,
    TruncatedReportError,
    ValueTypeError,
    WarningCode,
    read_report,
    views,
)
from nemstream_testing import SampleSet, names

DISPATCHIS = names.DISPATCHIS_2025  # 985 lines; DISPATCH,PRICE I row on line 85, D rows 86-90
TRADINGIS = names.TRADINGIS
PRICE = TableKey("DISPATCH", "PRICE", 5)


@pytest.fixture
def dispatchis(samples: SampleSet) -> bytes:
    return samples.path(DISPATCHIS).read_bytes()


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\r\n".join(lines)


def test_truncated_zip_is_a_container_error(samples: SampleSet) -> None:
    data = samples.path(TRADINGIS).read_bytes()
    with pytest.raises(CorruptContainerError) as caught:
        read_report(data[: len(data) // 2], name=TRADINGIS)
    assert caught.value.file == TRADINGIS
    assert "zip" in str(caught.value)


def test_corrupt_zip_member_is_a_container_error(samples: SampleSet) -> None:
    data = bytearray(samples.path(TRADINGIS).read_bytes())
    data[60:80] = bytes(20)  # inside the deflated member: CRC or inflate error
    with pytest.raises(CorruptContainerError) as caught:
        read_report(bytes(data), name=TRADINGIS)
    assert caught.value.file.startswith(f"{TRADINGIS}!PUBLIC_TRADINGIS_")


def test_empty_file_and_empty_zip(tmp_path: Path) -> None:
    empty = tmp_path / names.DISPATCHIS_2020
    empty.write_bytes(b"")
    with pytest.raises(EmptyReportError, match="empty file"):
        read_report(empty)
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    with pytest.raises(EmptyReportError, match="no files"):
        read_report(buffer.getvalue(), name="empty.zip")


def test_csv_cut_mid_row(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    cut = _join(lines[:87]) + b"\r\n" + lines[87][:40]  # line 88 is the third PRICE row
    with pytest.raises(TruncatedReportError) as caught:
        read_report(cut, name=DISPATCHIS)
    assert caught.value.line == 88
    assert caught.value.file == DISPATCHIS
    assert "cut mid-row" in str(caught.value)


def test_csv_cut_inside_a_quoted_field(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    cut = _join(lines[:87]) + b"\r\n" + lines[87][:24]  # stops inside "2025/12/27 00:05:00"
    with pytest.raises(TruncatedReportError) as caught:
        read_report(cut, name=DISPATCHIS)
    assert caught.value.line == 88


def test_csv_cut_at_a_line_end_has_no_footer(dispatchis: bytes) -> None:
    cut = _join(_lines(dispatchis)[:90]) + b"\r\n"
    with pytest.raises(TruncatedReportError, match="no END OF REPORT footer") as caught:
        read_report(cut, name=DISPATCHIS)
    assert caught.value.line == 90
    lenient = read_report(cut, name=DISPATCHIS, strict=False)
    assert [w.code for w in lenient.warnings] == [WarningCode.MISSING_FOOTER]
    assert views.dispatch_price(lenient).height == 5


def test_footer_count_mismatch_is_a_warning_with_all_the_data(dispatchis: bytes) -> None:
    data = dispatchis.replace(b'C,"END OF REPORT",985', b'C,"END OF REPORT",999')
    report = read_report(data, name=DISPATCHIS)
    (warning,) = report.warnings
    assert warning.code is WarningCode.FOOTER_MISMATCH
    assert warning.line == 985
    assert report.tables[TableKey("DISPATCH", "CONSTRAINT", 5)].height == 876


@pytest.mark.parametrize(
    ("name", "rows", "key"),
    [
        (DISPATCHIS, 876, TableKey("DISPATCH", "CONSTRAINT", 5)),
        (
            names.DVD_DUDETAILSUMMARY,  # one large block: polars' path
            8353,
            TableKey("PARTICIPANT_REGISTRATION", "DUDETAILSUMMARY", 4),
        ),
    ],
)
@pytest.mark.parametrize("count", [b"", b",", b", ", b",n/a", b",-1"])
def test_footer_without_its_count_is_a_warning_with_all_the_data(
    samples: SampleSet, name: str, rows: int, key: TableKey, count: bytes
) -> None:
    original = samples.path(name).read_bytes()
    footer = original.rindex(b'C,"END OF REPORT",')
    end = original.index(b"\r\n", footer)
    lines = original.count(b"\n", 0, footer) + 1
    assert original[footer:end] == b'C,"END OF REPORT",' + str(lines).encode()
    data = original[:footer] + b'C,"END OF REPORT"' + count + original[end:]
    report = read_report(data, name=name)  # strict, and still not an error
    (warning,) = report.warnings
    assert warning.code is WarningCode.FOOTER_MISMATCH
    assert (warning.file, warning.line) == (name, lines)
    assert f"the report has {lines} lines" in warning.message
    assert report.tables[key].height == rows
    assert report.locate(key, rows - 1) == read_report(original, name=name).locate(key, rows - 1)


def test_d_row_before_any_i_row(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    data = _join([lines[0], lines[85], *lines[1:]])  # a PRICE D row right after the header
    with pytest.raises(MalformedRowError, match="before any I row") as caught:
        read_report(data, name=DISPATCHIS)
    assert caught.value.line == 2


def test_d_rows_whose_i_row_is_missing(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    del lines[84]  # the DISPATCH,PRICE I row: its D rows now sit under LOCAL_PRICE's
    with pytest.raises(MalformedRowError, match="must follow its own table's I row") as caught:
        read_report(_join(lines), name=DISPATCHIS)
    assert caught.value.line == 85


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        (lambda row: row.rsplit(b",", 1)[0], 69),  # a field missing
        (lambda row: row + b",extra", 71),  # a field too many
    ],
)
def test_wrong_field_count_names_the_line(dispatchis: bytes, edit, found: int) -> None:  # type: ignore[no-untyped-def]
    lines = _lines(dispatchis)
    lines[87] = edit(lines[87])
    with pytest.raises(MalformedRowError) as caught:
        read_report(_join(lines), name=DISPATCHIS)
    assert caught.value.line == 88
    assert (
        f"expected 70 fields for DISPATCH,PRICE,5 (declared by its I row at line 85), found {found}"
        in str(caught.value)
    )


def test_text_in_a_numeric_column_names_file_line_and_value(dispatchis: bytes) -> None:
    data = dispatchis.replace(b",QLD1,20251226241,0,34.75,", b",QLD1,20251226241,0,n/a,", 1)
    report = read_report(data, name=DISPATCHIS)  # structure is fine: the value fails on use
    with pytest.raises(ValueTypeError) as caught:
        views.dispatch_price(report)
    error = caught.value
    assert (error.file, error.line, error.column, error.value) == (DISPATCHIS, 87, "RRP", "n/a")
    # a table nobody asked for is unaffected by the bad value
    assert report.tables[TableKey("DISPATCH", "REGIONSUM", 9)].height == 5


def test_bad_timestamp_names_the_line(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    lines[88] = lines[88].replace(b'"2025/12/27 00:05:00"', b'"2025/13/45 00:05:00"', 1)
    report = read_report(_join(lines), name=DISPATCHIS)
    with pytest.raises(ValueTypeError) as caught:
        report.tables[PRICE]
    assert (caught.value.line, caught.value.column) == (89, "SETTLEMENTDATE")


def test_bad_value_in_a_large_table_names_the_line(samples: SampleSet) -> None:
    archive = samples.path(names.ROOFTOP_MONTH).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        (member,) = zf.namelist()
        lines = zf.read(member).split(b"\r\n")
    assert lines[20000].startswith(b"D,ROOFTOP,ACTUAL,2,")
    fields = lines[20000].split(b",")
    fields[6] = b"oops"  # POWER
    lines[20000] = b",".join(fields)
    report = read_report(b"\r\n".join(lines), name=member)
    with pytest.raises(ValueTypeError) as caught:
        views.rooftop_actual(report)
    assert (caught.value.line, caught.value.column, caught.value.value) == (20001, "POWER", "oops")


def test_unknown_table_is_read_with_a_warning(dispatchis: bytes) -> None:
    data = dispatchis.replace(b"DISPATCH,LOCAL_PRICE,", b"DISPATCH,LOCAL_PRICE_X,")
    report = read_report(data, name=DISPATCHIS)
    (warning,) = report.warnings
    assert warning.code is WarningCode.UNKNOWN_TABLE
    assert warning.line == 4
    assert report.tables[TableKey("DISPATCH", "LOCAL_PRICE_X", 1)].height == 80
    assert views.dispatch_price(report).height == 5


def test_unknown_version_keeps_working_by_column_name(dispatchis: bytes) -> None:
    data = dispatchis.replace(b"DISPATCH,PRICE,5,", b"DISPATCH,PRICE,6,")
    report = read_report(data, name=DISPATCHIS)
    (warning,) = report.warnings
    assert warning.code is WarningCode.UNKNOWN_VERSION
    assert "known: 4, 5" in warning.message
    assert views.dispatch_price(report)["rrp"].to_list()[1] == 34.75


def test_view_of_a_report_without_its_table(samples: SampleSet) -> None:
    report = read_report(samples.path(TRADINGIS))
    with pytest.raises(TableNotFoundError, match="no DISPATCH,PRICE or DREGION, table"):
        views.dispatch_price(report)


def test_view_needs_its_required_columns(dispatchis: bytes) -> None:
    data = dispatchis.replace(
        b",REGIONID,DISPATCHINTERVAL,INTERVENTION,RRP,",
        b",REGIONID,DISPATCHINTERVAL,INTERVENTION,PRICE,",
        1,
    )
    with pytest.raises(MissingColumnError, match="has no RRP column"):
        views.dispatch_price(read_report(data, name=DISPATCHIS))


def test_blank_lines_among_rows_are_skipped_with_a_warning(dispatchis: bytes) -> None:
    lines = _lines(dispatchis)
    lines.insert(87, b"")
    lines[-2] = b'C,"END OF REPORT",986'
    report = read_report(_join(lines), name=DISPATCHIS)
    assert [w.code for w in report.warnings] == [WarningCode.BLANK_LINES]
    prices = views.dispatch_price(report)
    assert prices.height == 5
    assert report.locate(PRICE, 2) == (DISPATCHIS, 89)


def test_not_an_mms_file(tmp_path: Path) -> None:
    with pytest.raises(MalformedRowError, match="not an MMS CSV report"):
        read_report(b"<html><body>503 Service Unavailable</body></html>", name="x.zip")


def test_unreadable_path_is_an_mms_error(tmp_path: Path) -> None:
    with pytest.raises(MmsError, match="cannot read file"):
        read_report(tmp_path / "missing.zip")


def test_zip_member_over_the_size_cap(samples: SampleSet) -> None:
    from nemstream_mms import iter_members

    with pytest.raises(CorruptContainerError, match="over the 100-byte cap"):
        list(iter_members(samples.path(TRADINGIS), max_bytes=100))


def test_errors_inside_nested_zips_name_the_member(samples: SampleSet) -> None:
    good = samples.path(TRADINGIS).read_bytes()
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("a.zip", good)
        zf.writestr("b.zip", good[:300])
    with pytest.raises(CorruptContainerError) as caught:
        read_report(outer.getvalue(), name="day.zip")
    assert caught.value.file == "day.zip!b.zip"


def test_frames_are_polars(dispatchis: bytes) -> None:
    assert isinstance(read_report(dispatchis).tables[PRICE], pl.DataFrame)


def test_text_that_is_not_utf8_is_read_as_windows_1252(samples: SampleSet) -> None:
    data = samples.path(names.DVD_STATION).read_bytes()
    edited = data.replace(b"Callide Power Station", b"Callid\xe9 Power Station", 1)
    report = read_report(edited, name="station.csv")
    stations = report.table("PARTICIPANT_REGISTRATION", "STATION")
    assert "Callidé Power Station" in stations["STATIONNAME"].to_list()
    assert [w.code for w in report.warnings] == [WarningCode.ENCODING_FALLBACK]


def test_byte_order_mark_is_ignored(dispatchis: bytes) -> None:
    report = read_report(b"\xef\xbb\xbf" + dispatchis, name=DISPATCHIS)
    assert report.warnings == []
    assert views.dispatch_price(report).height == 5


def test_zip_claiming_an_unsupported_version(samples: SampleSet) -> None:
    # found by the property tests: one flipped byte in the central directory's "version
    # needed" field made zipfile raise NotImplementedError from its constructor
    data = bytearray(samples.path(names.ROOFTOP_MEASUREMENT).read_bytes())
    data[341:342] = b"@"
    with pytest.raises(CorruptContainerError):
        read_report(bytes(data), name="x.zip")
