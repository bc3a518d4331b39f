"""The forecast queries on real data: the 12 real P5MIN runs of 2019-05-16 00:00-00:55, the
real pre-dispatch run of 2019-05-01 00:00, and the real 288 DispatchIS files of 2019-05-16
(the actual prices), stored through the fetcher's events and the store library.

Every expected value is computed here straight from the raw files (the CSVs inside the zips
read with the `csv` module, not through our readers). The samples hold no pre-dispatch run of
a day with actual prices, so one test also stores the real 2019-05-01 run's real values
re-stamped 15 days later (run and intervals moved together) to check pre-dispatch accuracy
against the half-hour means of the real 2019-05-16 dispatch prices; it says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from nemstream_contracts import PredispatchPrice
from nemstream_fetcher import feed_of_report, report_events
from nemstream_mms import iter_reports
from nemstream_query import SPIKES, Query, QuerySettings, forecast_accuracy
from nemstream_query._forecasts import _months
from nemstream_query._records import MonthMemo
from nemstream_store import Store, Unit, unit_from_message
from nemstream_testing import SampleSet, names
from nemstream_testing.raw import aemo_time, mms_rows

SHIFT = timedelta(days=15)  # the pre-dispatch run re-stamped onto the day with actual prices
DAY = datetime(2019, 5, 16)
PD_RUN = datetime(2019, 5, 1)


def raw_p5min(samples: SampleSet) -> list[tuple[datetime, datetime, str, float]]:
    """(run, interval, region, rrp) of the pricing run of every P5MIN file."""
    out = []
    for path in sorted(samples.folder(names.P5MIN_RUNS).glob("PUBLIC_P5MIN_*.zip")):
        for r in mms_rows(path, "P5MIN,REGIONSOLUTION"):
            if r["INTERVENTION"] == "0":
                out.append(
                    (
                        aemo_time(r["RUN_DATETIME"]),
                        aemo_time(r["INTERVAL_DATETIME"]),
                        r["REGIONID"],
                        float(r["RRP"]),
                    )
                )
    return out


def raw_predispatch(samples: SampleSet) -> list[tuple[datetime, str, float]]:
    """(interval, region, rrp) of the pricing run of the pre-dispatch file (run: its name)."""
    (path,) = samples.folder(names.P5MIN_RUNS).glob("PUBLIC_PREDISPATCHIS_*.zip")
    return [
        (aemo_time(r["DATETIME"]), r["REGIONID"], float(r["RRP"]))
        for r in mms_rows(path, "PREDISPATCH,REGION_PRICES")
        if r["INTERVENTION"] == "0"
    ]


def raw_actuals(samples: SampleSet) -> dict[tuple[datetime, str], float]:
    """The pricing-run dispatch price of every interval of the day, by (interval, region)."""
    out = {}
    for path in sorted(samples.folder(names.HISTORY_DAY).glob("*.zip")):
        for r in mms_rows(path, "DISPATCH,PRICE"):
            if r["INTERVENTION"] == "0":
                out[(aemo_time(r["SETTLEMENTDATE"]), r["REGIONID"])] = float(r["RRP"])
    return out


def _units(paths: list[Path]) -> list[Unit]:
    out = []
    for path in paths:
        for report in iter_reports(path):
            feed = feed_of_report(report)
            assert feed is not None
            out += [unit_from_message(e.subject, e.message) for e in report_events(feed, report)]
    return out


def restamped_predispatch(samples: SampleSet) -> Unit:
    """The real pre-dispatch run's real values, run and intervals moved by `SHIFT`."""
    (path,) = samples.folder(names.P5MIN_RUNS).glob("PUBLIC_PREDISPATCHIS_*.zip")
    (report,) = iter_reports(path)
    (event,) = report_events("predispatch", report)
    assert isinstance(event.message, PredispatchPrice)
    body = event.message.model_dump()
    body["interval"] += SHIFT
    for row in body["rows"]:
        row["interval_datetime"] += SHIFT
    moved = PredispatchPrice.model_validate(body)
    return unit_from_message(event.subject, moved)


@pytest.fixture(scope="module")
def store_dir(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forecasts") / "store"
    store = Store(root)
    try:
        store.write(_units(sorted(samples.folder(names.P5MIN_RUNS).glob("*.zip"))))
        store.write(_units(sorted(samples.folder(names.HISTORY_DAY).glob("*.zip"))))
        store.write([restamped_predispatch(samples)])
    finally:
        store.close()
    return root


@pytest.fixture
def query(store_dir: Path) -> Iterator[Query]:
    opened = Query(QuerySettings(data_dir=store_dir.parent))
    yield opened
    opened.close()


def test_the_stored_runs_are_the_files_rows(query: Query, samples: SampleSet) -> None:
    p5 = raw_p5min(samples)
    stored = query.engine.frame(
        "SELECT count(*) AS n, count(DISTINCT run_datetime) AS runs FROM read_parquet($files) "
        "WHERE intervention = 0",
        {"files": query.engine.files("p5min")},
    ).row(0)
    assert stored == (len(p5), 12)
    assert len(p5) == 12 * 12 * 5


def test_latest_p5min_forecast_is_the_newest_files_rows(query: Query, samples: SampleSet) -> None:
    newest = max(run for run, *_ in raw_p5min(samples))
    expected = sorted(
        (interval, region, rrp)
        for run, interval, region, rrp in raw_p5min(samples)
        if run == newest
    )
    got = query.latest_forecast(DAY + timedelta(minutes=55), hours=1, sources=("p5min",))
    assert got.height == 60
    assert sorted(got.select("interval", "region", "rrp").iter_rows()) == expected
    assert set(got["run"]) == {newest}
    assert set(got["source"]) == {"p5min"}
    assert sorted(set(got["lead_minutes"])) == list(range(0, 60, 5))


def test_latest_predispatch_forecast_is_the_files_rows(query: Query, samples: SampleSet) -> None:
    expected = sorted(raw_predispatch(samples))
    got = query.latest_forecast(PD_RUN, hours=48, sources=("predispatch",))
    assert sorted(got.select("interval", "region", "rrp").iter_rows()) == expected
    assert len(expected) == 285  # 57 half hours x 5 regions
    assert set(got["run"]) == {PD_RUN}
    assert set(got["minutes"]) == {30}


def test_latest_forecast_is_p5min_then_predispatch_beyond(query: Query, samples: SampleSet) -> None:
    at = DAY + timedelta(minutes=55)
    got = query.latest_forecast(at, hours=6, regions=["SA1"])
    p5 = got.filter(pl.col("source") == "p5min")
    pd = got.filter(pl.col("source") == "predispatch")
    assert p5["interval"].to_list() == [at + timedelta(minutes=5 * i) for i in range(12)]
    last = at + timedelta(minutes=55)
    # the re-stamped run of 00:00 is the newest pre-dispatch run at 00:55: its half hours after
    # P5MIN's last interval (01:50), to 06:55
    moved = {(i + SHIFT, r): v for i, r, v in raw_predispatch(samples)}
    halves = [h for h, r in sorted(moved) if r == "SA1" and last < h <= at + timedelta(hours=6)]
    assert pd["interval"].to_list() == halves
    assert pd["rrp"].to_list() == [moved[(h, "SA1")] for h in halves]
    assert set(pd["run"]) == {DAY}
    assert got["interval"].is_sorted()


def test_an_empty_store_has_no_forecast(tmp_path: Path) -> None:
    opened = Query(QuerySettings(data_dir=tmp_path))
    try:
        assert opened.latest_forecast().is_empty()
        assert opened.forecast_accuracy(DAY, DAY + timedelta(days=1)).is_empty()
    finally:
        opened.close()


def test_evolution_of_one_interval(query: Query, samples: SampleSet) -> None:
    target = DAY + timedelta(minutes=50)
    actual = raw_actuals(samples)
    expected = sorted(
        (run, rrp, int((interval - run).total_seconds() // 60))
        for run, interval, region, rrp in raw_p5min(samples)
        if interval == target and region == "VIC1"
    )
    got = query.forecast_evolution(target, regions=["VIC1"])
    p5 = got.filter(pl.col("source") == "p5min")
    assert sorted(p5.select("run", "rrp", "lead_minutes").iter_rows()) == expected
    assert len(expected) == 11  # the runs of 00:00 to 00:50
    assert set(p5["actual"]) == {actual[(target, "VIC1")]}
    assert p5["error"].to_list() == pytest.approx(
        [rrp - actual[(target, "VIC1")] for rrp in p5["rrp"]]
    )
    # the re-stamped pre-dispatch run forecast the half hour holding 00:50 (01:00) at lead 60
    (pd,) = got.filter(pl.col("source") == "predispatch").iter_rows(named=True)
    half = DAY + timedelta(hours=1)
    assert (pd["interval"], pd["lead_minutes"]) == (half, 60)
    values = [actual[(half - timedelta(minutes=5 * i), "VIC1")] for i in range(6)]
    assert pd["actual"] == pytest.approx(sum(values) / 6)


def _expected_accuracy(
    pairs: list[tuple[str, int, float, float]],
) -> dict[tuple[str, int], dict[str, float | int | None]]:
    groups: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for region, lead, forecast, actual in pairs:
        groups[(region, lead)].append((forecast, actual))
    out: dict[tuple[str, int], dict[str, float | int | None]] = {}
    for key, values in groups.items():
        row: dict[str, float | int | None] = {
            "count": len(values),
            "mae": sum(abs(f - a) for f, a in values) / len(values),
            "bias": sum(f - a for f, a in values) / len(values),
        }
        for x in SPIKES:
            spikes = sum(a >= x for _, a in values)
            hits = sum(a >= x and f >= x for f, a in values)
            called = sum(f >= x for f, _ in values)
            false = sum(f >= x and a < x for f, a in values)
            row[f"spikes_{x}"], row[f"hits_{x}"], row[f"false_alarms_{x}"] = spikes, hits, false
            row[f"hit_rate_{x}"] = hits / spikes if spikes else None
            row[f"false_alarm_rate_{x}"] = false / called if called else None
        out[key] = row
    return out


def _compare(
    got: pl.DataFrame, expected: dict[tuple[str, int], dict[str, float | int | None]]
) -> None:
    assert got.height == len(expected)
    for row in got.iter_rows(named=True):
        want = expected[(row["region"], row["lead_minutes"])]
        for column, value in want.items():
            assert row[column] == (pytest.approx(value) if value is not None else None), column


def test_p5min_accuracy_equals_a_computation_from_the_files(
    query: Query, samples: SampleSet
) -> None:
    actual = raw_actuals(samples)
    start, end = DAY - timedelta(minutes=5), DAY + timedelta(hours=2)
    pairs = [
        (region, int((interval - run).total_seconds() // 60), rrp, actual[(interval, region)])
        for run, interval, region, rrp in raw_p5min(samples)
        if (interval, region) in actual and start < interval <= end
    ]
    assert len(pairs) == 720  # every forecast interval of the 12 runs has an actual
    got = query.forecast_accuracy(start, end, source="p5min")
    _compare(got, _expected_accuracy(pairs))
    assert set(got["lead_minutes"]) == set(range(0, 60, 5))
    assert (got["source"] == "p5min").all()
    # a narrower range and one region: only the pairs whose interval is in it
    narrow = query.forecast_accuracy(
        DAY + timedelta(minutes=30), DAY + timedelta(hours=1), source="p5min", regions=["QLD1"]
    )
    inside = [
        p
        for p, (run, interval, region, _) in zip(pairs, raw_p5min(samples), strict=True)
        if region == "QLD1" and DAY + timedelta(minutes=30) < interval <= DAY + timedelta(hours=1)
    ]
    _compare(narrow, _expected_accuracy(inside))


def test_predispatch_accuracy_against_half_hour_means(query: Query, samples: SampleSet) -> None:
    actual = raw_actuals(samples)
    halves: dict[tuple[datetime, str], float] = {}
    for (interval, region), _ in actual.items():
        half = DAY + timedelta(minutes=30 * -(-int((interval - DAY).total_seconds()) // 1800))
        values = [actual.get((half - timedelta(minutes=5 * i), region)) for i in range(6)]
        if all(v is not None for v in values):
            halves[(half, region)] = sum(v for v in values if v is not None) / 6
    assert len(halves) == 47 * 5  # 00:30 to 23:30: the half hour ending 00:00 lacks 23:35-23:55
    run = DAY  # the re-stamped run
    pairs = [
        (region, int((interval + SHIFT - run).total_seconds() // 60), rrp, halves[key])
        for interval, region, rrp in raw_predispatch(samples)
        if (key := (interval + SHIFT, region)) in halves
    ]
    got = query.forecast_accuracy(DAY, DAY + timedelta(days=1), source="predispatch")
    _compare(got, _expected_accuracy(pairs))
    assert got["count"].sum() == 47 * 5


def test_band_spans_every_runs_forecast(query: Query, samples: SampleSet) -> None:
    got = query.forecast_band(DAY - timedelta(hours=1), DAY + timedelta(hours=6))
    five = got.filter(pl.col("source") == "p5min")
    by_key: dict[tuple[datetime, str], list[tuple[datetime, float]]] = defaultdict(list)
    for run, interval, region, rrp in raw_p5min(samples):
        by_key[(interval, region)].append((run, rrp))
    assert five.height == len(by_key) == 23 * 5  # 00:00 to 01:50
    for row in five.iter_rows(named=True):
        forecasts = by_key[(row["interval"], row["region"])]
        assert row["low"] == min(f for _, f in forecasts)
        assert row["high"] == max(f for _, f in forecasts)
        assert (row["run"], row["rrp"]) == max(forecasts)
        assert row["runs"] == len(forecasts)
    # pre-dispatch (the re-stamped run) only for the half hours P5MIN has no forecast in
    halves = got.filter(pl.col("source") == "predispatch")["interval"]
    assert halves.min() == DAY + timedelta(hours=2, minutes=30)  # 01:30-02:00 holds 01:50
    assert halves.max() == DAY + timedelta(hours=6)
    # runs made by 00:20 only: the band of those five runs
    early = query.forecast_band(DAY, DAY + timedelta(hours=1), made=DAY + timedelta(minutes=20))
    assert early.filter(pl.col("source") == "p5min")["run"].max() == DAY + timedelta(minutes=20)


def test_whole_months_are_kept_and_add_up(query: Query, samples: SampleSet) -> None:
    assert _months(datetime(2019, 4, 30, 12), datetime(2019, 7, 1)) == [
        (datetime(2019, 4, 30, 12), datetime(2019, 5, 1), False),
        (datetime(2019, 5, 1), datetime(2019, 6, 1), True),
        (datetime(2019, 6, 1), datetime(2019, 7, 1), True),
    ]
    memo = MonthMemo()
    start, end = datetime(2019, 4, 30, 12), datetime(2019, 7, 1)
    first = forecast_accuracy(query.engine, start, end, source="p5min", memo=memo)
    kept = len(memo._kept)
    assert kept == 2  # May and June; the half day of April is not a whole month
    again = forecast_accuracy(query.engine, start, end, source="p5min", memo=memo)
    assert again.equals(first) and len(memo._kept) == kept
    actual = raw_actuals(samples)
    pairs = [
        (region, int((interval - run).total_seconds() // 60), rrp, actual[(interval, region)])
        for run, interval, region, rrp in raw_p5min(samples)
    ]
    _compare(first, _expected_accuracy(pairs))


def test_the_start_up_warm_up_keeps_the_last_whole_months(
    query: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the newest run is of May 2019: the three whole months before it, both sources
    assert query.warm_forecast_accuracy(months=3) == 3
    memo = query._months()
    assert len(memo._kept) == 6
    cold = forecast_accuracy(query.engine, datetime(2019, 2, 1), datetime(2019, 6, 1))
    reads: list[str] = []
    read = query.engine.frame

    def counted(sql: str, params: dict[str, object]) -> pl.DataFrame:
        reads.append(sql)
        return read(sql, params)

    monkeypatch.setattr(query.engine, "frame", counted)
    warm = forecast_accuracy(query.engine, datetime(2019, 2, 1), datetime(2019, 5, 1), memo=memo)
    assert reads == [] and warm.is_empty()  # February to April: from the memo, no read
    year = forecast_accuracy(query.engine, datetime(2019, 2, 1), datetime(2019, 6, 1), memo=memo)
    assert len(reads) == 1 and year.equals(cold)  # only May is read, the answer the same
