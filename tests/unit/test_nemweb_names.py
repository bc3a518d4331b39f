"""NEMWeb file names: kind, interval, id, period, and the folder each file lives in."""

from __future__ import annotations

from datetime import datetime

import pytest

from nemstream_mms import read_report, views
from nemstream_nemweb import (
    FEEDS,
    Area,
    FileNameError,
    Period,
    get_feed,
    nemweb_folder,
    parse_filename,
    report_name,
    try_parse_filename,
)
from nemstream_testing import SampleSet, names


@pytest.mark.parametrize(
    ("name", "kind", "stamp", "report_id", "period", "folder"),
    [
        (
            names.DISPATCHIS_2020,
            "DISPATCHIS",
            datetime(2020, 1, 13, 14, 10),
            "0000000317693747",
            Period.INTERVAL,
            "/Reports/CURRENT/DispatchIS_Reports/",
        ),
        (
            names.TRADINGIS,
            "TRADINGIS",
            datetime(2024, 3, 3, 13, 35),
            "0000000412683134",
            Period.INTERVAL,
            "/Reports/CURRENT/TradingIS_Reports/",
        ),
        (
            "PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.ZIP",
            "DISPATCHSCADA",
            datetime(2021, 9, 2, 12, 55),
            "0000000348376188",
            Period.INTERVAL,
            "/Reports/CURRENT/Dispatch_SCADA/",
        ),
        (
            names.ROOFTOP_MEASUREMENT,
            "ROOFTOP_PV_ACTUAL_MEASUREMENT",
            datetime(2024, 3, 3, 20, 0),
            "0000000412707330",
            Period.INTERVAL,
            "/Reports/CURRENT/ROOFTOP_PV/ACTUAL/",
        ),
        (
            "PUBLIC_DISPATCHIS_20211108.zip",
            "DISPATCHIS",
            datetime(2021, 11, 8),
            None,
            Period.DAY,
            "/Reports/ARCHIVE/DispatchIS_Reports/",
        ),
        (
            "PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20240225.zip",
            "ROOFTOP_PV_ACTUAL_SATELLITE",
            datetime(2024, 2, 25),
            None,
            Period.WEEK,
            "/Reports/ARCHIVE/ROOFTOP_PV/ACTUAL/",
        ),
        (
            names.DVD_DUDETAILSUMMARY,
            "DUDETAILSUMMARY",
            datetime(2017, 6, 1),
            None,
            Period.MONTH,
            "/Data_Archive/Wholesale_Electricity/MMSDM/2017/MMSDM_2017_06/"
            "MMSDM_Historical_Data_SQLLoader/DATA/",
        ),
        (
            names.PRICE_ARCHIVE,
            "DISPATCHPRICE",
            datetime(2026, 3, 1),
            None,
            Period.MONTH,
            "/Data_Archive/Wholesale_Electricity/MMSDM/2026/MMSDM_2026_03/"
            "MMSDM_Historical_Data_SQLLoader/DATA/",
        ),
        (
            "PUBLIC_DISPATCH_202111081435_20211108143014_LEGACY.zip",
            "DISPATCH",
            datetime(2021, 11, 8, 14, 35),
            None,
            Period.INTERVAL,
            "/Reports/CURRENT/Dispatch_Reports/",
        ),
    ],
)
def test_names(
    name: str,
    kind: str,
    stamp: datetime,
    report_id: str | None,
    period: Period,
    folder: str,
) -> None:
    parsed = parse_filename(name)
    assert (parsed.kind, parsed.stamp, parsed.report_id, parsed.period) == (
        kind,
        stamp,
        report_id,
        period,
    )
    assert nemweb_folder(name) == folder


def test_archive_names_keep_their_part_and_hash() -> None:
    parsed = parse_filename("PUBLIC_ARCHIVE#DISPATCHLOAD#FILE03#202401010000.zip")
    assert (parsed.kind, parsed.part, parsed.name) == (
        "DISPATCHLOAD",
        3,
        "PUBLIC_ARCHIVE#DISPATCHLOAD#FILE03#202401010000.zip",
    )
    legacy = parse_filename("PUBLIC_DISPATCH_202111081435_20211108143014_LEGACY.zip")
    assert legacy.made == datetime(2021, 11, 8, 14, 30, 14)


@pytest.mark.parametrize(
    "name",
    [
        names.DISPATCHIS_2025,
        "PUBLIC_DISPATCHIS_2020011314_0000000317693747.zip",
        "PUBLIC_DISPATCHIS_202013131410_0000000317693747.zip",
        "README.md",
        "",
    ],
)
def test_names_that_are_not_nemweb_reports(name: str) -> None:
    with pytest.raises(FileNameError):
        parse_filename(name)
    assert try_parse_filename(name) is None


@pytest.mark.parametrize(
    "name",
    [
        names.ROOFTOP_MEASUREMENT,
        names.ROOFTOP_SATELLITE,
        names.DISPATCHIS_2020,
        names.TRADINGIS,
        names.SCADA,
    ],
)
def test_interval_in_the_name_is_the_interval_in_the_data(samples: SampleSet, name: str) -> None:
    report = read_report(samples.path(name))
    view = next(v for v in views.VIEWS.values() if views.has_view(report, v))
    column = view.columns[0].name  # settlementdate / interval_datetime
    (interval,) = views.build(report, view)[column].unique().to_list()
    assert parse_filename(name).interval == interval


def test_feeds_have_fixed_names_and_cadence() -> None:
    assert list(FEEDS) == ["dispatch", "trading", "scada", "rooftop", "p5min", "predispatch"]
    assert get_feed("rooftop").cadence.total_seconds() == 1800
    assert get_feed("predispatch").cadence.total_seconds() == 1800
    assert get_feed("scada").path(Area.ARCHIVE) == "/Reports/ARCHIVE/Dispatch_SCADA/"
    assert get_feed("p5min").path() == "/Reports/CURRENT/P5_Reports/"
    assert get_feed("predispatch").path() == "/Reports/CURRENT/PredispatchIS_Reports/"
    with pytest.raises(ValueError, match="the feeds are dispatch, trading, scada, rooftop, p5min"):
        get_feed("prices")


def test_forecast_run_names_say_the_run_and_when_it_was_made(samples: SampleSet) -> None:
    for path in samples.folder(names.P5MIN_RUNS).iterdir():
        parsed = parse_filename(path.name)
        assert parsed.period is Period.INTERVAL and parsed.made is not None
        assert parsed.report_id is None
        feed = "p5min" if parsed.kind == "P5MIN" else "predispatch"
        assert nemweb_folder(parsed) == get_feed(feed).path()
        # the run's time is in the name: the RUN_DATETIME (P5MIN) or the run the PREDISPATCHSEQNO
        # names (pre-dispatch) of every row, and the run was made before it
        report = read_report(path.read_bytes(), name=path.name)
        view = views.P5MIN_REGIONSOLUTION if feed == "p5min" else views.PREDISPATCH_PRICE
        assert views.build(report, view)["run_datetime"].unique().to_list() == [parsed.stamp]
        assert parsed.made < parsed.stamp
    assert parse_filename("PUBLIC_P5MIN_20190516.zip").period is Period.DAY


def test_co2eii_list_names_live_in_the_cdeii_folder(samples: SampleSet) -> None:
    path = samples.path(names.CO2EII_GENERATORS)
    parsed = parse_filename(path.name)
    assert parsed.kind == "CO2EII_AVAILABLE_GENERATORS"
    assert parsed.stamp == datetime(2017, 11, 3, 10, 48, 27)
    assert nemweb_folder(parsed) == "/Reports/CURRENT/CDEII/"


def test_report_name_round_trip() -> None:
    name = report_name("DISPATCHIS", datetime(2025, 12, 27, 0, 5), "495867501")
    assert name == "PUBLIC_DISPATCHIS_202512270005_0000000495867501.zip"
    assert parse_filename(name).interval == datetime(2025, 12, 27, 0, 5)
