"""The query layer on real data: generation by fuel from real SCADA and the real registry,
prices and statistics from the real March 2026 DISPATCHPRICE archive, rooftop PV from the real
December 2019 rollout, resolution choice, gap filling without double counting, the cache.

Where a test needs data the samples lack (SCADA in more than one interval, SCADA on a day with
prices), it re-stamps the real SCADA interval's real values to other times and says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from nemstream_aggregator import archive_aggregates
from nemstream_contracts import SCADA_UNIT_30MIN, MeanRow, ThirtyMinute, UnitScada
from nemstream_fetcher import feed_of_report, report_events
from nemstream_market import NEM_TZ
from nemstream_mms import iter_reports, read_report, views
from nemstream_query import Policy, Query, QuerySettings, Resolution, by_fuel, five_minute
from nemstream_registry import build_registry
from nemstream_store import Store, Unit, rebuild_daily, unit_from_message
from nemstream_testing import SampleSet, names

MONTHLY = names.PRICE_ARCHIVE
SCADA = names.SCADA
LIST = names.REGISTRATION_LIST
ROOFTOP_MONTH = names.ROOFTOP_MONTH
ROOFTOP = names.ROOFTOP_MEASUREMENT
# The archive sample holds NSW1 and SA1 on 1-3 and 30-31 March 2026 (see SOURCES.md).
PRICE_GAP = (datetime(2026, 3, 2), datetime(2026, 3, 3))  # no 5-minute prices stored
THIRTY_UNTIL = datetime(2026, 3, 30, 12)  # no 30-minute prices stored after this
REGIONS = ["NSW1", "SA1"]
PRICED = datetime(2026, 3, 30, 12, 55)  # the real SCADA values re-stamped to a priced interval


def units_of(samples: SampleSet, name: str) -> list[Unit]:
    out = []
    for report in iter_reports(samples.path(name)):
        feed = feed_of_report(report)
        assert feed is not None
        out += [unit_from_message(e.subject, e.message) for e in report_events(feed, report)]
    return out


def restamped_scada(samples: SampleSet, at: datetime) -> Unit:
    """The real SCADA interval's real values, stamped at another interval ending `at`."""
    (report,) = iter_reports(samples.path(SCADA))
    (event,) = report_events("scada", report)
    assert isinstance(event.message, UnitScada)
    message = event.message.model_copy(update={"interval": at.replace(tzinfo=NEM_TZ)})
    return unit_from_message(event.subject, message)


@pytest.fixture(scope="module")
def registry(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    built, _ = build_registry([samples.path(LIST)])
    return built


@pytest.fixture(scope="module")
def store_dir(
    samples: SampleSet, registry: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("query") / "store"
    store = Store(root)
    try:
        _fill(store, samples, registry)
    finally:
        store.close()
    yield root


def _fill(store: Store, samples: SampleSet, registry: pl.DataFrame) -> None:
    prices = [
        u for u in units_of(samples, MONTHLY) if not PRICE_GAP[0] < u.interval <= PRICE_GAP[1]
    ]
    store.write(prices)
    thirty = [
        unit_from_message(subject, message)
        for subject, _, message in archive_aggregates([samples.path(MONTHLY)])
        if message.interval.replace(tzinfo=None) <= THIRTY_UNTIL
    ]
    store.write(thirty)
    store.write(units_of(samples, SCADA))
    store.write([restamped_scada(samples, PRICED)])
    store.write(units_of(samples, ROOFTOP))
    regions = registry.select("duid", "region")
    for month in ("2021-09", "2024-03", "2026-03"):
        rebuild_daily(store, month, regions)


@pytest.fixture
def query(store_dir: Path, registry: pl.DataFrame) -> Iterator[Query]:
    opened = Query(QuerySettings(data_dir=store_dir.parent), registry)
    yield opened
    opened.close()


def real_prices(samples: SampleSet) -> pl.DataFrame:
    frame = views.pricing_run(views.dispatch_price(read_report(samples.path(MONTHLY))))
    return frame.select("settlementdate", "regionid", "rrp")


def test_resolution_follows_the_span_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy()
    day = datetime(2026, 3, 1)
    assert policy.choose(day, day + timedelta(hours=24)) is Resolution.FIVE
    assert policy.choose(day, day + timedelta(days=7)) is Resolution.THIRTY
    assert policy.choose(day, day + timedelta(days=365)) is Resolution.DAILY
    monkeypatch.setenv("NEMSTREAM_QUERY_FIVE_MINUTE_MAX_H", "200")
    monkeypatch.setenv("NEMSTREAM_QUERY_THIRTY_MINUTE_MAX_D", "400")
    configured = Query(QuerySettings(data_dir=Path("/nonexistent")))
    try:
        assert configured.resolution(day, day + timedelta(days=7)) is Resolution.FIVE
        assert configured.resolution(day, day + timedelta(days=365)) is Resolution.THIRTY
    finally:
        configured.close()


def test_generation_by_fuel_matches_scada_joined_to_the_registry(
    query: Query, samples: SampleSet, registry: pl.DataFrame
) -> None:
    at = datetime(2021, 9, 2, 12, 55)
    stack = query.generation_by_fuel(at - timedelta(hours=1), at, rooftop=False)
    scada = views.unit_scada(read_report(samples.path(SCADA)))
    expected = (
        scada.join(registry.select("duid", "fuel"), on="duid", how="left")
        .with_columns(pl.col("fuel").fill_null("unknown"))
        .group_by("fuel")
        .agg(pl.col("scadavalue").sum().alias("mw"))
        .sort("fuel")
    )
    assert stack["interval"].unique().to_list() == [at]
    assert stack.sort("fuel")["fuel"].to_list() == expected["fuel"].to_list()
    assert np.allclose(stack.sort("fuel")["mw"].to_numpy(), expected["mw"].to_numpy())
    # negative SCADA (charging, pumping, auxiliary load) nets off rather than being dropped
    negative = scada.filter(pl.col("scadavalue") < 0)
    assert negative.height > 0
    assert stack["mw"].sum() == pytest.approx(scada["scadavalue"].sum())
    assert stack["mw"].sum() < scada["scadavalue"].clip(lower_bound=0).sum()
    assert stack.select((pl.col("mwh") - pl.col("mw") * 5 / 60).abs().max()).item() < 1e-9


def test_regions_are_bound_parameters(query: Query) -> None:
    at = datetime(2021, 9, 2, 12, 55)
    one = query.generation_by_fuel(at - timedelta(hours=1), at, regions=["SA1"], by_region=True)
    assert set(one["region"]) == {"SA1"}
    hostile = query.generation_by_fuel(at - timedelta(hours=1), at, regions=["SA1' OR 1=1 --"])
    assert hostile.is_empty()


def test_rooftop_adds_regions_never_subregions(query: Query, samples: SampleSet) -> None:
    at = datetime(2024, 3, 3, 19, 30)
    rows = query.generation(at - timedelta(hours=2), at, resolution=Resolution.THIRTY).frame
    roof = rows.filter(pl.col("fuel") == "rooftop_solar").sort("region")
    real = views.rooftop_actual(read_report(samples.path(ROOFTOP)))
    regions = real.filter(~pl.col("is_subregion")).sort("regionid")
    assert roof["region"].to_list() == regions["regionid"].to_list() == list(views.NEM_REGIONS)
    assert roof["mw"].to_list() == regions["power"].to_list()
    # at 5 minutes each half-hour is six values whose mean is the half-hour's value
    five = query.generation(at - timedelta(hours=1), at, resolution=Resolution.FIVE).frame
    qld = five.filter((pl.col("fuel") == "rooftop_solar") & (pl.col("region") == "QLD1"))
    assert qld.height == 6
    assert qld["mw"].mean() == pytest.approx(
        regions.filter(pl.col("regionid") == "QLD1")["power"].item()
    )


def test_prices_at_five_minutes_fill_a_gap_from_half_hours_once(
    query: Query, samples: SampleSet
) -> None:
    start, end = datetime(2026, 3, 1, 12), datetime(2026, 3, 3, 12)  # 48 h, half in the gap
    answer = query.prices(start, end, regions=["NSW1"])
    assert answer.resolution is Resolution.FIVE
    assert answer.coverage == pytest.approx(0.5, abs=0.01)
    frame = answer.frame
    five, thirty = frame.filter(pl.col("minutes") == 5), frame.filter(pl.col("minutes") == 30)
    assert thirty["interval"].is_between(*PRICE_GAP, closed="right").all()
    assert five.filter(pl.col("interval").is_between(*PRICE_GAP, closed="right")).is_empty()
    assert answer.filled == thirty.height == 48
    assert frame["minutes"].sum() == 48 * 60  # every minute of the range counted once
    # a 5-minute price is one of one; the archive's half-hours of the gap day are whole
    assert (five["intervals"] == 1).all() and (thirty["intervals"] == 6).all()
    assert frame["complete"].all() and answer.partial == 0
    real = real_prices(samples).filter(pl.col("regionid") == "NSW1")
    joined = thirty.join(half_hour_means(real), left_on="interval", right_on="settlementdate")
    assert joined.height == 48
    assert np.allclose(joined["rrp"].to_numpy(), joined["rrp_right"].to_numpy())


def half_hour_means(prices: pl.DataFrame) -> pl.DataFrame:
    """Mean of the six 5-minute prices in (T-30, T], computed independently of the store."""
    return prices.group_by(
        (pl.col("settlementdate") - timedelta(minutes=5)).dt.truncate("30m") + timedelta(minutes=30)
    ).agg(pl.col("rrp").mean())


def test_prices_at_thirty_minutes_fill_from_five_minute_means(
    query: Query, samples: SampleSet
) -> None:
    start, end = datetime(2026, 3, 29), datetime(2026, 3, 31, 12)  # 60 h: half-hourly
    answer = query.prices(start, end, regions=["SA1"])
    assert answer.resolution is Resolution.THIRTY
    frame = answer.frame
    assert frame["interval"].is_unique().all()
    # nothing on the 29th; the first half-hour holds the one price at 30 Mar 00:00
    assert frame["interval"].min() == datetime(2026, 3, 30)
    assert frame.filter(pl.col("interval") <= THIRTY_UNTIL).height == 25  # stored half-hours
    assert answer.filled == 48 and "prices5" in answer.sources  # 30 Mar 12:30 to 31 Mar 12:00
    assert frame.height == 25 + 48
    # that first half-hour is a mean of one 5-minute price, not six: the answer says so
    assert frame.filter(~pl.col("complete")).select("interval", "intervals").rows() == [
        (datetime(2026, 3, 30), 1)
    ]
    assert (frame.filter(pl.col("complete"))["intervals"] == 6).all()
    real = real_prices(samples).filter(pl.col("regionid") == "SA1")
    joined = frame.join(half_hour_means(real), left_on="interval", right_on="settlementdate")
    assert joined.height == frame.height
    assert np.allclose(joined["rrp"].to_numpy(), joined["rrp_right"].to_numpy())


def test_price_stats_match_the_archive(query: Query, samples: SampleSet) -> None:
    start, end = datetime(2026, 3, 1), datetime(2026, 4, 1)
    stats = query.price_stats(start, end)
    real = real_prices(samples).filter(
        pl.col("settlementdate").is_between(start, end, closed="right")
    )
    in_gap = pl.col("settlementdate").is_between(*PRICE_GAP, closed="right")
    assert stats["region"].to_list() == REGIONS
    for region in REGIONS:
        row = stats.filter(pl.col("region") == region).row(0, named=True)
        own = real.filter(pl.col("regionid") == region)
        outside = own.filter(~in_gap)
        assert row["intervals5"] == outside.height
        assert row["intervals30"] == 48  # the day without 5-minute prices, from half-hours
        # every 5-minute price the month's statistics stand on (the half-hours' six each),
        # against the month's intervals up to the newest price: the sample holds five days
        assert row["intervals"] == outside.height + 48 * 6 == own.height
        assert row["expected"] == 31 * 288 and not row["complete"]
        assert row["hours"] == pytest.approx(own.height * 5 / 60)
        # half-hour means weighted by their length keep the time-weighted mean exactly
        assert row["mean"] == pytest.approx(own["rrp"].mean(), rel=1e-9)
        assert row["min"] <= outside["rrp"].min() and row["max"] >= outside["rrp"].max()
        assert row["max"] <= own["rrp"].max()
        negative = outside.filter(pl.col("rrp") < 0).height * 5 / 60
        gap_negative = (
            half_hour_means(own.filter(in_gap)).filter(pl.col("rrp") < 0).height * 30 / 60
        )
        assert row["hours_negative"] == pytest.approx(negative + gap_negative)
    assert query.price_stats(start, end, regions=["SA1"])["region"].to_list() == ["SA1"]


def test_daily_generation_and_station_revenue(
    query: Query, samples: SampleSet, registry: pl.DataFrame
) -> None:
    day = datetime(2026, 3, 30)
    daily = query.daily_generation_by_fuel(day, day + timedelta(days=1))
    scada = views.unit_scada(read_report(samples.path(SCADA)))
    assert daily["mwh"].sum() == pytest.approx(scada["scadavalue"].sum() * 5 / 60)
    assert (daily["minutes"] == 1440).all() and daily["interval"].unique().to_list() == [
        day + timedelta(days=1)
    ]
    revenue = query.revenue_by_station(day, day + timedelta(days=1), limit=1000)
    price = real_prices(samples).filter(pl.col("settlementdate") == PRICED)
    expected = (
        scada.join(registry.select("duid", "region", "fuel", "station_name"), on="duid")
        .join(price, left_on="region", right_on="regionid")
        .with_columns(pl.col("fuel").fill_null("unknown"))  # as the query labels it
        .group_by("station_name", "region", "fuel")
        .agg((pl.col("scadavalue") * pl.col("rrp") * 5 / 60).sum().alias("revenue"))
    )
    joined = revenue.join(
        expected, left_on=["station", "region", "fuel"], right_on=["station_name", "region", "fuel"]
    )
    assert joined.height == expected.height > 10
    # revenue is MW x RRP x 5/60 h at the unit's region price, never MW x RRP
    assert np.allclose(joined["revenue"].to_numpy(), joined["revenue_right"].to_numpy())
    earned = revenue["revenue"].drop_nulls().to_list()
    assert earned == sorted(earned, reverse=True)
    assert (
        revenue.filter(pl.col("revenue").is_null())["region"].is_in(["QLD1", "VIC1", "TAS1"]).all()
    )


def test_daily_rooftop_from_the_rollup(query: Query, samples: SampleSet) -> None:
    day = datetime(2024, 3, 3)
    daily = query.daily_generation_by_fuel(day, day + timedelta(days=1), by_region=True)
    roof = daily.filter(pl.col("fuel") == "rooftop_solar").sort("region")
    real = views.rooftop_actual(read_report(samples.path(ROOFTOP)))
    regions = real.filter(~pl.col("is_subregion")).sort("regionid")
    assert roof["region"].to_list() == regions["regionid"].to_list()  # no sub-regions
    assert np.allclose(roof["mwh"].to_numpy(), regions["power"].to_numpy() * 0.5)  # MW x 0.5 h


def test_renewable_share(query: Query) -> None:
    at = datetime(2021, 9, 2, 12, 55)
    share = query.renewable_share(at - timedelta(minutes=5), at, by_region=True)
    assert share["share"].is_between(0, 1).all()
    stack = query.generation_by_fuel(at - timedelta(minutes=5), at, regions=["SA1"])
    positive = stack.filter(pl.col("fuel") != "battery").with_columns(
        pl.col("mw").clip(lower_bound=0)
    )
    renewable = positive.filter(pl.col("fuel").is_in(["wind", "solar", "hydro", "biomass"]))
    row = share.filter(pl.col("region") == "SA1").row(0, named=True)
    assert row["share"] == pytest.approx(float(renewable["mw"].sum()) / float(positive["mw"].sum()))


def test_cache_serves_repeats_and_new_data_invalidates(
    samples: SampleSet, tmp_path: Path, registry: pl.DataFrame
) -> None:
    store = Store(tmp_path / "store")
    monthly = units_of(samples, MONTHLY)
    store.write(monthly[:288])
    query = Query(QuerySettings(data_dir=tmp_path), registry)
    try:
        start, end = datetime(2026, 3, 1), datetime(2026, 3, 2)
        first = query.prices(start, end)
        assert query.prices(start, end) is first  # served from the cache
        store.write(monthly[288:300])
        again = query.prices(start, end + timedelta(hours=1))
        assert again is not first
        fresh = query.prices(start, end)
        assert fresh is not first  # the table changed: the cached answer is not served
        assert fresh.frame.height == first.frame.height
    finally:
        query.close()
        store.close()


def test_pages_asking_the_same_question_at_once_read_the_store_once(
    samples: SampleSet, tmp_path: Path, registry: pl.DataFrame
) -> None:
    store = Store(tmp_path / "store")
    store.write(units_of(samples, MONTHLY)[:288])
    query = Query(QuerySettings(data_dir=tmp_path), registry)
    start, end = datetime(2026, 3, 1), datetime(2026, 3, 2)
    reads: list[int] = []
    inside = threading.Event()
    release = threading.Event()
    real = query.engine.frame

    def slow_frame(sql: str, params: dict[str, Any]) -> pl.DataFrame:
        reads.append(1)
        inside.set()
        release.wait(10)
        return real(sql, params)

    query.engine.frame = slow_frame  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(10) as pool:
            first = pool.submit(query.prices, start, end)
            assert inside.wait(10)
            others = [pool.submit(query.prices, start, end) for _ in range(9)]
            release.set()
            answers = [first.result(10), *(o.result(10) for o in others)]
        assert len(reads) == 1  # one read of the store, ten answers
        assert all(a is answers[0] for a in answers)
        assert answers[0].frame.height > 0
    finally:
        query.close()
        store.close()


def test_an_empty_store_answers_empty(tmp_path: Path) -> None:
    query = Query(QuerySettings(data_dir=tmp_path))
    try:
        day = datetime(2026, 3, 1)
        for span in (timedelta(hours=4), timedelta(days=7), timedelta(days=400)):
            assert query.generation_by_fuel(day, day + span).is_empty()
            assert query.prices(day, day + span).frame.is_empty()
        assert query.price_stats(day, day + timedelta(days=1)).is_empty()
        assert query.revenue_by_station(day, day + timedelta(days=1)).is_empty()
    finally:
        query.close()


def test_five_minute_rooftop_keeps_means_and_stays_smooth(samples: SampleSet) -> None:
    real = views.rooftop_actual(read_report(samples.path(ROOFTOP_MONTH)))
    vic = (
        real.filter((pl.col("regionid") == "VIC1") & (pl.col("type") == "MEASUREMENT"))
        .select("interval_datetime", "power")
        .sort("interval_datetime")
    )
    assert vic.height > 1000
    five = five_minute(vic)
    assert five.height == 6 * vic.height
    assert (five["power"] >= 0).all()  # never negative at dawn and dusk
    means = (
        five.group_by(
            (pl.col("interval_datetime") - timedelta(minutes=5)).dt.truncate("30m")
            + timedelta(minutes=30)
        )
        .agg(pl.col("power").mean())
        .sort("interval_datetime")
    )
    assert np.allclose(means["power"].to_numpy(), vic["power"].to_numpy(), atol=1e-6)
    # smooth: steps between 5-minute values are far smaller than steps between half-hours
    steps5, steps30 = five["power"].diff().abs().to_numpy(), vic["power"].diff().abs().to_numpy()
    assert np.nanmax(steps5) < np.nanmax(steps30)
    # local: a new half-hour changes only the last hour of the series before it
    shorter = five_minute(vic.head(vic.height - 1))
    before = five.head(shorter.height)
    changed = (before["power"] - shorter["power"]).abs() > 1e-9
    assert changed.sum() <= 12 and not changed.head(shorter.height - 12).any()


def test_generation_gaps_are_filled_from_the_other_resolution_once(
    samples: SampleSet, tmp_path: Path, registry: pl.DataFrame
) -> None:
    """The real SCADA interval's real values, re-stamped: 5-minute rows at 12:55, 13:35 and
    14:00; half-hourly means (as the aggregator makes them) at 12:00, 12:30 and 13:00."""
    (report,) = iter_reports(samples.path(SCADA))
    (event,) = report_events("scada", report)
    assert isinstance(event.message, UnitScada)
    values = {r.duid: r.scadavalue for r in event.message.rows}
    day = datetime(2021, 9, 2)
    store = Store(tmp_path / "store")
    try:
        store.write(
            [
                restamped_scada(samples, day.replace(hour=h, minute=m))
                for h, m in ((12, 55), (13, 35), (14, 0))
            ]
        )
        for h, m in ((12, 0), (12, 30), (13, 0)):
            half = ThirtyMinute(
                feed="aggregator",
                source_file="aggregator",
                interval=day.replace(hour=h, minute=m, tzinfo=NEM_TZ),
                table="scada.unit",
                measure="scadavalue",
                complete=True,
                rows=[MeanRow(key=d, mean=v, intervals=6) for d, v in values.items()],
            )
            store.write([unit_from_message(SCADA_UNIT_30MIN, half)])
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path), registry)
    total = sum(values.values())
    try:
        # 5 minutes over (11:00, 14:00]: three 5-minute values, the half-hours without any
        # filled from the 30-minute means (13:00 has a 5-minute value: not filled, not doubled)
        answer = query.generation(day.replace(hour=11), day.replace(hour=14), rooftop=False)
        assert answer.resolution is Resolution.FIVE and answer.coverage < 0.1
        stack = (
            by_fuel(answer).group_by("interval", "minutes").agg(pl.col("mw").sum()).sort("interval")
        )
        assert stack.select("interval", "minutes").rows() == [
            (day.replace(hour=12), 30),
            (day.replace(hour=12, minute=30), 30),
            (day.replace(hour=12, minute=55), 5),
            (day.replace(hour=13, minute=35), 5),
            (day.replace(hour=14), 5),
        ]
        assert np.allclose(stack["mw"].to_numpy(), total)
        # 30 minutes over three days: the half-hour 14:00 has no 30-minute row; the mean of its
        # two 5-minute values fills it
        answer = query.generation(day - timedelta(days=1), day + timedelta(days=2), rooftop=False)
        assert answer.resolution is Resolution.THIRTY and answer.filled == 1
        halves = by_fuel(answer).group_by("interval").agg(pl.col("mw").sum()).sort("interval")
        assert halves["interval"].to_list() == [
            day.replace(hour=h, minute=m) for h, m in ((12, 0), (12, 30), (13, 0), (14, 0))
        ]
        assert np.allclose(halves["mw"].to_numpy(), total)
    finally:
        query.close()
