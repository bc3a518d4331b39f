"""Every real NEMWeb sample reads, with the row counts and values AEMO published in it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from nemstream_mms import MmsReport, TableKey, WarningCode, read_report, views
from nemstream_testing import SampleSet, find_samples_dir, names

# (file) -> {table key: D rows}, as counted from the I rows (SOURCES.md in the samples folder).
EXPECTED_ROWS: dict[str, dict[str, int]] = {
    names.DISPATCHIS_2025: {
        "DISPATCH,CASE_SOLUTION,2": 1,
        "DISPATCH,LOCAL_PRICE,1": 80,
        "DISPATCH,PRICE,5": 5,
        "DISPATCH,REGIONSUM,9": 5,
        "DISPATCH,INTERCONNECTORRES,3": 6,
        "DISPATCH,CONSTRAINT,5": 876,
        "DISPATCH,INTERCONNECTION,1": 3,
    },
    names.DISPATCHIS_2020: {
        "DISPATCH,CASE_SOLUTION,2": 1,
        "DISPATCH,LOCAL_PRICE,1": 2,
        "DISPATCH,PRICE,4": 5,
        "DISPATCH,REGIONSUM,4": 5,
        "DISPATCH,INTERCONNECTORRES,3": 6,
        "DISPATCH,CONSTRAINT,5": 741,
        "DISPATCH,INTERCONNECTION,1": 3,
    },
    names.TRADINGIS: {
        "TRADING,INTERCONNECTORRES,2": 6,
        "TRADING,PRICE,3": 5,
    },
    names.SCADA: {"DISPATCH,UNIT_SCADA,1": 390},
    names.ROOFTOP_MEASUREMENT: {"ROOFTOP,ACTUAL,2": 10},
    names.ROOFTOP_SATELLITE: {"ROOFTOP,ACTUAL,2": 10},
    names.DVD_DUDETAILSUMMARY: {"PARTICIPANT_REGISTRATION,DUDETAILSUMMARY,4": 8353},
    names.DVD_DUDETAIL: {"PARTICIPANT_REGISTRATION,DUDETAIL,3": 3082},
    names.DVD_STATION: {"PARTICIPANT_REGISTRATION,STATION,1": 315},
    names.ROOFTOP_MONTH: {"ROOFTOP,ACTUAL,2": 30720},
    names.DVD_TRADINGINTERCONNECT: {"TRADING,INTERCONNECTORRES,2": 8640},
    names.PRICE_ARCHIVE: {"DISPATCH,PRICE,5": 2880},
}

_NOT_MMS = {".md", ".html", ".json", ".xls", ".xlsx"}


def _mms_files() -> list[str]:
    root = find_samples_dir()
    if root is None:
        return ["<no samples>"]
    return sorted(
        p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() not in _NOT_MMS
    )


def _read(samples: SampleSet, name: str) -> MmsReport:
    if name == "<no samples>":
        pytest.skip("no NEMWeb samples folder")
    return read_report(samples.path(name))


@pytest.mark.parametrize("name", _mms_files())
def test_every_sample_reads_with_all_tables_typed(samples: SampleSet, name: str) -> None:
    report = _read(samples, name)
    counts = {str(key): report.tables[key].height for key in report.tables}
    if name in EXPECTED_ROWS:
        assert counts == EXPECTED_ROWS[name]
    else:  # a file from the downloaded cache: at least one table, every one typed
        assert counts and all(n >= 0 for n in counts.values())
    for key in report.tables:
        frame = report.tables[key]
        # timestamps became datetimes, never left as text
        for column in ("SETTLEMENTDATE", "INTERVAL_DATETIME", "LASTCHANGED"):
            if column in frame.columns and frame.get_column(column).null_count() < frame.height:
                assert frame.schema[column] == pl.Datetime("us"), (key, column)
    for view in views.VIEWS.values():
        if views.has_view(report, view):
            frame = views.build(report, view)
            assert frame.schema == pl.Schema(view.schema), view.name
            assert frame.height > 0


def test_dispatchis_2025_prices_and_region_summary(samples: SampleSet) -> None:
    report = _read(samples, names.DISPATCHIS_2025)
    assert report.header is not None
    assert report.header.report_type == "DISPATCHIS"
    assert report.header.report_id == "0000000495867501"
    prices = views.dispatch_price(report)
    rrp = dict(zip(prices["regionid"], prices["rrp"], strict=True))
    assert rrp == {
        "NSW1": 33.51273,
        "QLD1": 34.75,
        "SA1": 0.02331,
        "TAS1": 1.12,
        "VIC1": -2.69976,
    }
    assert prices["price_status"].to_list() == ["FIRM"] * 5
    assert prices["intervention"].to_list() == [0] * 5
    assert prices["settlementdate"].unique().to_list() == [datetime(2025, 12, 27, 0, 5)]
    regions = (
        views.dispatch_regionsum(report).filter(pl.col("regionid") == "NSW1").row(0, named=True)
    )
    assert regions["totaldemand"] == 6257.51
    assert regions["availablegeneration"] == 12222.41861
    assert regions["dispatchablegeneration"] == 5331.39
    assert regions["netinterchange"] == -926.13
    flows = report.table("DISPATCH", "INTERCONNECTION")
    vic_sa = flows.filter((pl.col("FROM_REGIONID") == "VIC1") & (pl.col("TO_REGIONID") == "SA1"))
    assert vic_sa["MWFLOW"].item() == -208.69289
    assert vic_sa["METEREDMWFLOW"].item() == -241.930542


def test_dispatchis_2020_older_table_versions(samples: SampleSet) -> None:
    report = _read(samples, names.DISPATCHIS_2020)
    prices = views.dispatch_price(report)
    assert prices["rrp"].min() == 32.47971
    assert prices["rrp"].max() == 48.0
    # PRICE v4 predates 1-second FCAS: the view still has the column, null
    assert prices["raise1secrrp"].null_count() == 5
    # REGIONSUM v4 predates the semi-scheduled split columns
    assert views.dispatch_regionsum(report)["ss_solar_uigf"].null_count() == 5
    assert report.warnings == []


def test_tradingis_five_minute_prices(samples: SampleSet) -> None:
    report = _read(samples, names.TRADINGIS)
    prices = views.trading_price(report)
    rrp = dict(zip(prices["regionid"], prices["rrp"], strict=True))
    assert rrp == {"SA1": -63.45, "NSW1": 77.06, "QLD1": 86.0, "TAS1": -40.01, "VIC1": -67.1}
    assert prices["periodid"].unique().to_list() == [163]
    flows = report.table("TRADING", "INTERCONNECTORRES").filter(
        pl.col("INTERCONNECTORID") == "NSW1-QLD1"
    )
    assert flows.select("METEREDMWFLOW", "MWFLOW", "MWLOSSES").row(0) == (587.0, 464.75, 30.31)


def test_unit_scada_keeps_negative_values(samples: SampleSet) -> None:
    report = _read(samples, names.SCADA)
    scada = views.unit_scada(report)
    assert scada.height == 390
    assert scada.filter(pl.col("duid") == "BARCSF1")["scadavalue"].item() == 5.0
    assert scada.filter(pl.col("scadavalue") < 0).height == 8
    # this older v1 has no LASTCHANGED column: optional in the view
    assert scada["lastchanged"].null_count() == 390


def test_monthly_rooftop_archive(samples: SampleSet) -> None:
    report = _read(samples, names.ROOFTOP_MONTH)
    rooftop = views.rooftop_actual(report)
    assert rooftop.group_by("type").len().sort("type").rows() == [
        ("MEASUREMENT", 15360),
        ("SATELLITE", 15360),
    ]
    assert rooftop["power"].null_count() == 16
    assert rooftop["interval_datetime"].min() == datetime(2019, 12, 1, 0, 30)
    assert rooftop["interval_datetime"].max() == datetime(2020, 1, 2, 0, 0)


def test_monthly_trading_interconnect_is_half_hourly(samples: SampleSet) -> None:
    report = _read(samples, names.DVD_TRADINGINTERCONNECT)
    key = TableKey("TRADING", "INTERCONNECTORRES", 2)
    frame = report.tables[key]
    assert (frame["PERIODID"].min(), frame["PERIODID"].max()) == (1, 48)
    assert report.interval_range(key) == (datetime(2017, 6, 1, 0, 30), datetime(2017, 7, 1, 0, 0))


def test_filtered_monthly_price_archive_reads_despite_its_footer(samples: SampleSet) -> None:
    name = names.PRICE_ARCHIVE
    report = _read(samples, name)
    prices = views.dispatch_price(report)
    assert prices.height == 2880
    assert prices["rrp"].min() == -228.61171
    assert prices["rrp"].max() == 980.89
    assert prices.filter(pl.col("rrp") < 0).height == 267
    assert prices["price_status"].unique().to_list() == ["FIRM"]
    # NEMOSIS re-serialised this file, so its footer count is stale: a warning, not a failure
    (warning,) = report.warnings
    assert warning.code is WarningCode.FOOTER_MISMATCH
    assert "44643" in warning.message
    assert warning.file.endswith("!PUBLIC_ARCHIVE#DISPATCHPRICE#FILE01#202603010000.CSV")


def test_registration_tables(samples: SampleSet) -> None:
    summary = _read(samples, names.DVD_DUDETAILSUMMARY).table(
        "PARTICIPANT_REGISTRATION", "DUDETAILSUMMARY"
    )
    assert summary.schema["START_DATE"] == pl.Datetime("us")
    assert summary.schema["REGIONID"] == pl.String
    assert set(summary["REGIONID"].drop_nulls().unique()) <= {
        "NSW1",
        "QLD1",
        "SA1",
        "TAS1",
        "VIC1",
        "SNOWY1",
    }
    stations = _read(samples, names.DVD_STATION).table("PARTICIPANT_REGISTRATION", "STATION")
    assert stations["STATIONID"].n_unique() == 315


def test_any_case_of_extension_and_name(samples: SampleSet, tmp_path: Path) -> None:
    source = samples.path(names.TRADINGIS)
    odd = tmp_path / "tradingis.ZiP"
    odd.write_bytes(source.read_bytes())
    assert views.trading_price(read_report(odd)).height == 5
    csv = samples.path(names.DISPATCHIS_2020)
    upper = tmp_path / "X.CSV"
    upper.write_bytes(csv.read_bytes())
    assert views.dispatch_price(read_report(upper)).height == 5
