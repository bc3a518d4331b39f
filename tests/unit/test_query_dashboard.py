"""The dashboard's queries, each market rule on known data.

Real data wherever the test is about AEMO's data: the March 2026 DISPATCHPRICE archive (NSW1 and
SA1; its 2 March kept only as half-hours, so 30-minute rows are weighed beside 5-minute ones),
the real SCADA interval re-stamped to a priced interval of that archive, the registration list,
the rooftop PV files and the 2025 DispatchIS (interconnectors, semi-scheduled availability).
Generated values where the point is arithmetic or a rule the samples never show (an
administered price, a suspended market, cleared MW above availability, a battery charging).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nemstream_aggregator import archive_aggregates
from nemstream_contracts import (
    DISPATCH_PRICE,
    DISPATCH_PRICE_30MIN,
    DISPATCH_REGIONSUM,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    SCADA_UNIT_30MIN,
    DispatchPrice,
    DispatchPriceRow,
    DispatchRegionSum,
    MeanRow,
    RegionSumRow,
    RooftopActual,
    ThirtyMinute,
    UnitScada,
    UnitScadaRow,
)
from nemstream_fetcher import feed_of_report, report_events
from nemstream_market import (
    MARKET_FLOOR_PRICE,
    NEM_TZ,
    REGIONS,
    financial_year,
    interconnector_regions,
    market_price_cap,
)
from nemstream_mms import iter_reports, read_report, views
from nemstream_query import STATUSES, Query, QuerySettings, Resolution
from nemstream_query._market import PRICE_NOW_SCHEMA
from nemstream_registry import build_registry
from nemstream_store import Store, TableReader, Unit, rebuild_daily, unit_from_message
from nemstream_testing import SampleSet, names

MONTHLY = names.PRICE_ARCHIVE
PRICE_GAP = (datetime(2026, 3, 2), datetime(2026, 3, 3))  # only half-hours stored
PRICED = datetime(2026, 3, 30, 12, 55)  # the real SCADA values re-stamped here
CHARGING = PRICED + timedelta(minutes=5)  # a generated battery charging interval
MARCH = (datetime(2026, 3, 1), datetime(2026, 4, 1))
FIVE = timedelta(minutes=5)
UP = 500.0  # how much dearer the generated intervention run is


def messages(samples: SampleSet, name: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for report in iter_reports(samples.path(name)):
        feed = feed_of_report(report)
        assert feed is not None
        out += [(e.subject, e.message) for e in report_events(feed, report)]
    return out


def units_of(samples: SampleSet, name: str) -> list[Unit]:
    return [unit_from_message(s, m) for s, m in messages(samples, name)]  # type: ignore[arg-type]


def real_scada(samples: SampleSet) -> UnitScada:
    ((_, message),) = messages(samples, names.SCADA)
    assert isinstance(message, UnitScada)
    return message


def restamped(message: UnitScada | RooftopActual, at: datetime) -> Unit:
    """A real message's real values at another interval ending `at`."""
    copy = message.model_copy(update={"interval": at.replace(tzinfo=NEM_TZ)})
    subject = SCADA_UNIT if isinstance(message, UnitScada) else ROOFTOP_ACTUAL
    return unit_from_message(subject, copy)


def real_prices(samples: SampleSet) -> pl.DataFrame:
    frame = views.pricing_run(views.dispatch_price(read_report(samples.path(MONTHLY))))
    return frame.select(pl.col("settlementdate").alias("interval"), "regionid", "rrp")


@pytest.fixture(scope="module")
def registry(samples: SampleSet) -> pl.DataFrame:
    built, _ = build_registry([samples.path(names.REGISTRATION_LIST)])
    return built


@pytest.fixture(scope="module")
def store_dir(
    samples: SampleSet, registry: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("dashboard") / "store"
    store = Store(root)
    try:
        archive = messages(samples, MONTHLY)
        store.write(
            [
                unit_from_message(s, m)  # type: ignore[arg-type]
                for s, m in archive
                if not PRICE_GAP[0] < m.interval.replace(tzinfo=None) <= PRICE_GAP[1]  # type: ignore[attr-defined]
            ]
        )
        store.write(
            [unit_from_message(s, m) for s, _, m in archive_aggregates([samples.path(MONTHLY)])]
        )
        # the pricing run of PRICED again, now with an intervention run at another price
        (priced,) = [m for _, m in archive if m.interval.replace(tzinfo=None) == PRICED]  # type: ignore[attr-defined]
        assert isinstance(priced, DispatchPrice)
        both = [
            *priced.rows,
            *(r.model_copy(update={"intervention": 1, "rrp": r.rrp + UP}) for r in priced.rows),
        ]
        store.write([unit_from_message(DISPATCH_PRICE, priced.model_copy(update={"rows": both}))])
        store.write([restamped(real_scada(samples), PRICED)])
        charging = UnitScada(
            feed="scada",
            source_file="generated",
            interval=CHARGING.replace(tzinfo=NEM_TZ),
            rows=[UnitScadaRow(duid="HPR1", scadavalue=-50.0)],
        )
        store.write([unit_from_message(SCADA_UNIT, charging)])
        store.write(units_of(samples, names.ROOFTOP_MEASUREMENT))
        rebuild_daily(store, "2026-03", registry.select("duid", "region"))
    finally:
        store.close()
    yield root


@pytest.fixture
def query(store_dir: Path, registry: pl.DataFrame) -> Iterator[Query]:
    opened = Query(QuerySettings(data_dir=store_dir.parent), registry)
    yield opened
    opened.close()


# --- market facts -------------------------------------------------------------------------------


def test_market_price_cap_by_financial_year() -> None:
    # the interval ending 1 July 00:00 is the last of the financial year that ends then
    assert financial_year(datetime(2024, 7, 1)) == 2023
    assert financial_year(datetime(2024, 7, 1, 0, 5)) == 2024
    assert market_price_cap(datetime(2024, 7, 1)) == 16_600
    assert market_price_cap(datetime(2024, 7, 1, 0, 5)) == 17_500
    assert market_price_cap(datetime(2016, 7, 1, 0, 5)) == 14_000
    assert market_price_cap(datetime(2026, 3, 30, 12, 55)) == 20_300
    assert market_price_cap(datetime(2026, 7, 1, 0, 5)) is None  # not published yet
    assert market_price_cap(datetime(2015, 1, 1)) is None
    # an aware instant is read in NEM time: 14:05 UTC on 30 June is 00:05 on 1 July
    assert market_price_cap(datetime(2024, 6, 30, 14, 5, tzinfo=UTC)) == 17_500
    assert MARKET_FLOOR_PRICE == -1000


def test_interconnector_regions_name_the_positive_direction() -> None:
    assert interconnector_regions("NSW1-QLD1") == ("NSW1", "QLD1")
    assert interconnector_regions("V-SA") == ("VIC1", "SA1")
    assert interconnector_regions("T-V-MNSP1") == ("TAS1", "VIC1")
    assert interconnector_regions("N-Q-MNSP1") == ("NSW1", "QLD1")
    assert interconnector_regions("V-S-MNSP1") == ("VIC1", "SA1")
    assert interconnector_regions("VIC1-NSW1") == ("VIC1", "NSW1")
    assert interconnector_regions("NSW1-SA1") == ("NSW1", "SA1")  # not listed: read from parts
    assert interconnector_regions("SOMETHING") is None


# --- the market now -----------------------------------------------------------------------------


def test_price_now_and_recent_prices_on_the_real_archive(query: Query, samples: SampleSet) -> None:
    end = datetime(2026, 3, 31, 12)
    now = query.price_now(end)
    real = real_prices(samples)
    assert now["region"].to_list() == ["NSW1", "SA1"] and now.schema == PRICE_NOW_SCHEMA
    for row in now.iter_rows(named=True):
        own = real.filter(pl.col("regionid") == row["region"]).sort("interval")
        day = own.filter(
            pl.col("interval").is_between(end - timedelta(days=1), end, closed="right")
        )
        hour = day.filter(pl.col("interval") > end - timedelta(hours=1))
        assert row["interval"] == end
        assert row["rrp"] == day["rrp"][-1] and row["previous_rrp"] == day["rrp"][-2]
        assert row["change"] == pytest.approx(day["rrp"][-1] - day["rrp"][-2])
        assert row["avg_1h"] == pytest.approx(hour["rrp"].mean())
        assert row["avg_24h"] == pytest.approx(day["rrp"].mean())
        assert (row["intervals_1h"], row["intervals_24h"], row["complete"]) == (12, 288, True)
        # the status columns come through from the real file: FIRM, no cap applied, not suspended
        assert (row["price_status"], row["apcflag"], row["marketsuspendedflag"]) == ("FIRM", 0, 0)
        assert row["status"] == "firm" and row["cap"] == 20_300
    recent = query.recent_prices(end, count=5, regions=["SA1"])
    sa = real.filter(pl.col("regionid") == "SA1", pl.col("interval") <= end).sort("interval")
    assert recent["interval"].to_list() == sa["interval"].tail(5).to_list()
    assert recent["rrp"].to_list() == sa["rrp"].tail(5).to_list()
    # the default is the newest interval in the store
    assert query.price_now()["interval"].unique().to_list() == [datetime(2026, 4, 1)]


def _prices(at: datetime, rows: list[DispatchPriceRow]) -> Unit:
    message = DispatchPrice(
        feed="dispatch", source_file="generated", interval=at.replace(tzinfo=NEM_TZ), rows=rows
    )
    return unit_from_message(DISPATCH_PRICE, message)


def test_status_precedence_with_the_cap_of_the_financial_year(tmp_path: Path) -> None:
    """Generated: AEMO's files in the samples are all FIRM, never administered nor suspended."""
    last = datetime(2024, 7, 1)  # last interval of FY 2023-24 (cap 16,600)
    first = last + FIVE  # first of FY 2024-25 (cap 17,500)

    def row(region: str, rrp: float, **flags: object) -> DispatchPriceRow:
        return DispatchPriceRow(regionid=region, intervention=0, rrp=rrp, **flags)

    store = Store(tmp_path / "store")
    try:
        store.write(
            [
                _prices(
                    last,
                    [
                        row(
                            "NSW1",
                            16_600,
                            marketsuspendedflag=1,
                            apcflag=1,
                            price_status="NOT FIRM",
                        ),
                        row("QLD1", 16_600, apcflag=1, price_status="NOT FIRM"),
                        row("SA1", 16_600, price_status="NOT FIRM"),
                        row("TAS1", MARKET_FLOOR_PRICE, price_status="NOT FIRM"),
                        row("VIC1", 50, price_status="NOT FIRM", apcflag=0),
                    ],
                ),
                _prices(
                    first,
                    [
                        row("NSW1", 17_500, price_status="FIRM"),
                        row("QLD1", 40),  # no status published: firm
                        row("SA1", 16_600, price_status="FIRM"),  # under the new year's cap
                        row("TAS1", -999.0, price_status="FIRM"),
                        row("VIC1", 55, price_status="FIRM"),
                    ],
                ),
            ]
        )
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path, query_cache_size=0))
    try:
        before = query.price_now(last)
        assert dict(before.select("region", "status").iter_rows()) == {
            "NSW1": "suspended",
            "QLD1": "administered",
            "SA1": "at_cap",
            "TAS1": "at_floor",
            "VIC1": "not_firm",
        }
        assert set(before["cap"]) == {16_600} and set(before["status"]) < set(STATUSES)
        after = query.price_now()
        assert after["interval"].unique().to_list() == [first]
        assert dict(after.select("region", "status").iter_rows()) == {
            "NSW1": "at_cap",
            "QLD1": "firm",
            "SA1": "firm",
            "TAS1": "firm",
            "VIC1": "firm",
        }
        assert set(after["cap"]) == {17_500}
        vic = after.filter(pl.col("region") == "VIC1").row(0, named=True)
        assert (vic["previous_rrp"], vic["change"], vic["avg_1h"]) == (50, 5, 52.5)
        assert (vic["intervals_1h"], vic["complete"]) == (2, False)
    finally:
        query.close()


def test_interconnectors_now_on_a_real_dispatch_file(samples: SampleSet, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    try:
        store.write(units_of(samples, names.DISPATCHIS_2025))
    finally:
        store.close()
    real = views.dispatch_interconnector(read_report(samples.path(names.DISPATCHIS_2025)))
    query = Query(QuerySettings(data_dir=tmp_path, query_cache_size=0))
    try:
        now = query.interconnectors_now()
    finally:
        query.close()
    assert now["interconnectorid"].to_list() == sorted(real["interconnectorid"])
    assert (now["interval"] == datetime(2025, 12, 27, 0, 5)).all()
    rows = {r["interconnectorid"]: r for r in now.iter_rows(named=True)}
    for flow in real.iter_rows(named=True):
        row = rows[flow["interconnectorid"]]
        assert (row["mw"], row["target_mw"]) == (flow["meteredmwflow"], flow["mwflow"])
        limit = flow["exportlimit"] if flow["meteredmwflow"] >= 0 else flow["importlimit"]
        if limit:
            assert row["utilisation"] == pytest.approx(abs(flow["meteredmwflow"]) / abs(limit))
    # V-SA flows from SA to Victoria (negative), bound by its export limit, which is below zero
    vsa = rows["V-SA"]
    assert (vsa["from_region"], vsa["to_region"], vsa["direction"]) == ("VIC1", "SA1", "SA1 → VIC1")
    assert vsa["at_limit"] and vsa["utilisation"] < 0.2
    assert rows["VIC1-NSW1"]["direction"] == "VIC1 → NSW1" and rows["VIC1-NSW1"]["at_limit"]
    assert rows["V-S-MNSP1"]["at_limit"]  # Murraylink held at -141.46, both limits
    assert not rows["NSW1-QLD1"]["at_limit"] and rows["NSW1-QLD1"]["direction"] == "QLD1 → NSW1"


# --- revenue, energy and units --------------------------------------------------------------------


def test_revenue_by_unit_is_mw_times_pricing_run_rrp_times_hours(
    query: Query, store_dir: Path, samples: SampleSet, registry: pl.DataFrame
) -> None:
    stored = pl.read_parquet(TableReader(store_dir).files("prices5", PRICED, PRICED)).filter(
        pl.col("settlementdate") == PRICED
    )
    assert sorted(stored["intervention"]) == [0, 0, 1, 1]  # the intervention run is stored
    day = datetime(2026, 3, 30)
    revenue = query.revenue_by_unit(day, day + timedelta(days=1))
    price = real_prices(samples).filter(pl.col("interval") == PRICED)
    scada = views.unit_scada(read_report(samples.path(names.SCADA)))
    expected = (
        scada.join(registry.select("duid", "region"), on="duid")
        .join(price, left_on="region", right_on="regionid")
        .select("duid", "scadavalue", "rrp")
    )
    joined = revenue.join(expected, on="duid")
    assert joined.height == expected.height > 50
    hours = 5 / 60  # MW x RRP x hours, never MW x RRP
    assert np.allclose(
        joined["revenue_maud"].to_numpy() * 1e6,
        (joined["scadavalue"] * joined["rrp"] * hours).to_numpy(),
    )
    assert np.allclose(joined["gwh"].to_numpy() * 1e3, (joined["scadavalue"] * hours).to_numpy())
    # the intervention run's dearer price would have given another revenue
    earning = joined.filter(pl.col("scadavalue") > 1)
    dearer = earning["scadavalue"] * (earning["rrp"] + UP) * hours
    assert not np.allclose(earning["revenue_maud"].to_numpy() * 1e6, dearer.to_numpy())
    positive = joined.filter(pl.col("scadavalue") > 0)
    assert np.allclose(positive["price_received"].to_numpy(), positive["rrp"].to_numpy())
    # negative SCADA stays negative: energy and revenue below zero, no price received
    negative = joined.filter(pl.col("scadavalue") < 0)
    assert negative.height > 0 and (negative["gwh"] < 0).all()
    assert negative["price_received"].is_null().all()
    # units in regions the archive has no price for have energy but no revenue
    unpriced = revenue.filter(pl.col("region").is_in(["QLD1", "VIC1", "TAS1"]))
    assert unpriced.height > 0 and unpriced["revenue_maud"].is_null().all()
    assert unpriced["gwh"].is_not_null().all()
    # one row per DUID, for the region -> fuel -> station -> DUID pivot
    assert revenue["duid"].is_unique().all()
    assert revenue.columns[:4] == ["region", "fuel", "station_name", "duid"]
    assert (revenue["intervals"] >= 1).all() and not revenue["complete"].any()


def test_battery_charging_stays_negative(query: Query, samples: SampleSet) -> None:
    """HPR1 (Hornsdale Power Reserve, a battery in the real registry) charging at 50 MW."""
    day = datetime(2026, 3, 30)
    rrp = (
        real_prices(samples)
        .filter(pl.col("interval") == CHARGING, pl.col("regionid") == "SA1")["rrp"]
        .item()
    )
    battery = query.revenue_by_unit(day, day + timedelta(days=1)).filter(pl.col("duid") == "HPR1")
    row = battery.row(0, named=True)
    assert row["fuel"] == "battery" and row["gwh"] == pytest.approx(-50 * 5 / 60 / 1000)
    assert row["revenue_maud"] * 1e6 == pytest.approx(-50 * rrp * 5 / 60)
    assert row["price_received"] is None and row["utilisation"] < 0
    detail = query.station_detail(PRICED, CHARGING, duid="HPR1")
    assert detail.output["mw"].to_list() == [-50.0] and detail.mwh == pytest.approx(-50 * 5 / 60)
    assert detail.revenue_aud == pytest.approx(-50 * rrp * 5 / 60)
    assert detail.price_received is None  # energy below zero: no price received
    fuels = query.utilisation_by_fuel(PRICED, CHARGING)
    assert fuels.filter(pl.col("fuel") == "battery")["mw"].item() == pytest.approx(-50)


def test_station_detail_of_a_real_station(
    query: Query, samples: SampleSet, registry: pl.DataFrame
) -> None:
    scada = views.unit_scada(read_report(samples.path(names.SCADA)))
    bayswater = registry.filter(pl.col("station_name") == "Bayswater Power Station")
    mw = float(scada.join(bayswater, on="duid")["scadavalue"].sum())
    rrp = (
        real_prices(samples)
        .filter(pl.col("interval") == PRICED, pl.col("regionid") == "NSW1")["rrp"]
        .item()
    )
    detail = query.station_detail(
        PRICED - timedelta(hours=1), PRICED, station="bayswater power station"
    )
    assert detail.duids == ("BW01", "BW02", "BW03", "BW04") and detail.region == "NSW1"
    assert detail.resolution is Resolution.FIVE and detail.fuel == "coal"
    series = detail["series"]  # readable by name, like a dict
    assert series.select("interval", "mw", "rrp").rows() == [(PRICED, pytest.approx(mw), rrp)]
    assert detail.get("revenue_aud") == pytest.approx(mw * rrp * 5 / 60)
    assert detail.price_received == pytest.approx(rrp) and detail.region_twa == pytest.approx(rrp)
    assert detail.capacity_factor == pytest.approx(mw / float(bayswater["capacity_mw"].sum()))
    assert detail.profile.rows() == [("13:00", pytest.approx(mw), 1)]
    unknown = query.station_detail(PRICED - timedelta(hours=1), PRICED, station="No Such Station")
    assert unknown.output.is_empty() and unknown.series.is_empty() and unknown.revenue_aud is None
    with pytest.raises(ValueError, match="station or a DUID"):
        query.station_detail(PRICED, PRICED)


def test_utilisation_by_fuel_uses_the_capacity_of_units_that_report(
    query: Query, samples: SampleSet, registry: pl.DataFrame
) -> None:
    scada = views.unit_scada(read_report(samples.path(names.SCADA))).join(
        registry.select("duid", "fuel", "capacity_mw"), on="duid", how="left"
    )
    expected = (
        scada.with_columns(pl.col("fuel").fill_null("unknown"))
        .group_by("fuel")
        .agg(
            pl.col("scadavalue").sum().alias("mw"),
            pl.col("capacity_mw").sum(),
            pl.len().alias("units"),
        )
        .sort("fuel")
    )
    fuels = query.utilisation_by_fuel(PRICED - timedelta(hours=1), PRICED)
    assert fuels["fuel"].to_list() == expected["fuel"].to_list()
    assert np.allclose(fuels["mw"].to_numpy(), expected["mw"].to_numpy())
    assert np.allclose(fuels["capacity_mw"].to_numpy(), expected["capacity_mw"].to_numpy())
    assert fuels["units"].to_list() == expected["units"].to_list()
    assert np.allclose(
        fuels["utilisation"].to_numpy(), (expected["mw"] / expected["capacity_mw"]).to_numpy()
    )
    regional = query.utilisation_by_fuel(PRICED - timedelta(hours=1), PRICED, by_region=True)
    assert regional.columns[:2] == ["region", "fuel"]
    assert regional["mw"].sum() == pytest.approx(fuels["mw"].sum())


def test_unit_search_ranks_exact_then_prefix_then_substring_then_words(tmp_path: Path) -> None:
    units = pl.DataFrame(
        {
            "duid": ["KER1", "ERB01", "ER01", "WPER1", "OTHER9"],
            "station_name": ["Kerang", "Erb Solar", "Eraring", "West Perth Wind", "Lake Solar"],
            "region": ["VIC1", "NSW1", "NSW1", "SA1", "QLD1"],
            "fuel": ["solar", "solar", "coal", "wind", "solar"],
            "capacity_mw": [10.0, 20.0, 720.0, 50.0, 5.0],
        }
    )
    query = Query(QuerySettings(data_dir=tmp_path), units)
    try:
        assert query.units("er01")["duid"].to_list()[0] == "ER01"  # exact DUID, any case
        # prefixes of a DUID or station first (by station name), then substrings
        assert query.units("er")["duid"].to_list() == ["ER01", "ERB01", "KER1", "OTHER9", "WPER1"]
        assert query.units("Eraring")["duid"].to_list() == ["ER01"]
        assert query.units("wind west")["duid"].to_list() == ["WPER1"]  # every word, any order
        assert query.units("solar", limit=2).height == 2
        assert query.units("nothing like it").is_empty()
        everything = query.units()
        assert everything.columns == ["duid", "station_name", "region", "fuel", "capacity_mw"]
        assert everything["station_name"].to_list() == sorted(units["station_name"])
    finally:
        query.close()


def test_unit_search_on_the_real_registry(query: Query) -> None:
    assert query.units("bayswater")["duid"].to_list() == ["BW01", "BW02", "BW03", "BW04"]
    hornsdale = query.units("hornsdale")
    assert hornsdale.height >= 3 and hornsdale["station_name"].str.starts_with("Hornsdale").all()
    assert query.units("HPR1").row(0, named=True)["fuel"] == "battery"


# --- rooftop PV and renewable share ------------------------------------------------------------


def test_rooftop_by_region_never_counts_a_subregion_twice(
    samples: SampleSet, tmp_path: Path
) -> None:
    """A real midday half-hour of December 2019, when the sub-regions are far from zero."""
    at = datetime(2019, 12, 10, 12, 30)
    picked = [
        unit_from_message(s, m)  # type: ignore[arg-type]
        for s, m in messages(samples, names.ROOFTOP_MONTH)
        if m.interval.replace(tzinfo=None) == at  # type: ignore[attr-defined]
    ]
    assert picked
    store = Store(tmp_path / "store")
    try:
        store.write(picked)
    finally:
        store.close()
    real = views.rooftop_actual(read_report(samples.path(names.ROOFTOP_MONTH))).filter(
        pl.col("interval_datetime") == at
    )
    query = Query(QuerySettings(data_dir=tmp_path))
    try:
        rows = query.rooftop_by_region(at - timedelta(hours=1), at)
        regions = query.rooftop_by_region(at - timedelta(hours=1), at, include_subregions=False)
        qld = query.rooftop_by_region(at - timedelta(hours=1), at, regions=["QLD1"])
        stack = query.generation_by_fuel(
            at - timedelta(hours=1), at, by_region=True, resolution=Resolution.THIRTY
        )
    finally:
        query.close()
    assert rows["regionid"].n_unique() == rows.height == real["regionid"].n_unique() == 10
    measured = real.sort("regionid", pl.col("type") != "MEASUREMENT").unique(
        "regionid", keep="first"
    )
    joined = rows.join(measured, on="regionid")
    assert (joined["mw"] == joined["power"]).all()  # each region's own value, nothing added
    subs = rows.filter(pl.col("is_subregion"))
    assert sorted(subs["regionid"]) == ["QLDC", "QLDN", "QLDS", "TASN", "TASS"]
    assert subs.filter(pl.col("regionid").str.starts_with("QLD"))[
        "parent_region"
    ].unique().to_list() == ["QLD1"]
    assert subs["mw"].sum() > 0  # so adding them in would show
    assert regions["regionid"].to_list() == ["NSW1", "QLD1", "SA1", "TAS1", "VIC1"]
    assert qld["regionid"].to_list() == ["QLD1", "QLDC", "QLDN", "QLDS"]
    roof = stack.filter(pl.col("fuel") == "rooftop_solar").sort("region")
    assert roof["mw"].to_list() == regions["mw"].to_list()  # the stack adds regions only


def test_rooftop_by_region_by_day_is_the_mean_of_the_days_half_hours(
    samples: SampleSet, tmp_path: Path
) -> None:
    """A real December 2019 week: over a year's range the answer is by trading day."""
    first = datetime(2019, 12, 2)
    picked = [
        unit_from_message(s, m)  # type: ignore[arg-type]
        for s, m in messages(samples, names.ROOFTOP_MONTH)
        if first < m.interval.replace(tzinfo=None) <= first + timedelta(days=7)  # type: ignore[attr-defined]
    ]
    store = Store(tmp_path / "store")
    try:
        store.write(picked)
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path))
    try:
        halves = query.rooftop_by_region(first, first + timedelta(days=7), regions=["SA1"])
        days = query.rooftop_by_region(first, first + timedelta(days=365), regions=["SA1"])
    finally:
        query.close()
    assert halves["minutes"].unique().to_list() == [30] and halves.height == 7 * 48
    assert days["minutes"].unique().to_list() == [1440] and days.height == 7
    assert days["complete"].all() and (days["intervals"] == 288).all()
    by_hand = (
        halves.group_by((pl.col("interval") - timedelta(minutes=30)).dt.date().alias("day"))
        .agg(pl.col("mw").mean())
        .sort("day")
    )
    assert np.allclose(days.sort("interval")["mw"].to_numpy(), by_hand["mw"].to_numpy())
    assert days["interval"][0] == first + timedelta(days=1)  # a day ends at its midnight


def _share(frame: pl.DataFrame) -> float:
    """Renewable share computed here from first principles: fuels' net MW (batteries left
    out), below zero as zero; renewable = wind, solar, hydro, biomass, rooftop PV."""
    net = frame.filter(pl.col("fuel") != "battery").group_by("fuel").agg(pl.col("mw").sum())
    positive = net.with_columns(pl.col("mw").clip(lower_bound=0))
    renewable = positive.filter(
        pl.col("fuel").is_in(["wind", "solar", "hydro", "biomass", "rooftop_solar"])
    )
    return float(renewable["mw"].sum()) / float(positive["mw"].sum())


def test_renewable_records_from_complete_half_hours_with_rooftop(
    samples: SampleSet, registry: pl.DataFrame, tmp_path: Path
) -> None:
    """The real SCADA values and the real rooftop PV (2024-03-03 19:30), re-stamped: six 5-minute
    values in the half-hour to 19:30 (with rooftop PV), four in the one to 19:00 (partial), six
    in the one to 20:00 (no rooftop PV yet)."""
    scada = real_scada(samples)
    ((_, roof),) = messages(samples, names.ROOFTOP_MEASUREMENT)
    assert isinstance(roof, RooftopActual)
    day = datetime(2024, 3, 3)
    h1900, h1930, h2000 = (
        day.replace(hour=19),
        day.replace(hour=19, minute=30),
        day.replace(hour=20),
    )
    fives = [h1930 - FIVE * i for i in range(6)] + [h1900 - FIVE * i for i in range(4)]
    fives += [h2000 - FIVE * i for i in range(6)]
    store = Store(tmp_path / "store")
    try:
        store.write([restamped(scada, t) for t in fives] + [restamped(roof, h1930)])
        store.write([restamped(roof, h1900)])
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path), registry)
    try:
        records = query.renewable_records(at=h1930)
        generation = (
            pl.DataFrame(
                {"duid": [r.duid for r in scada.rows], "mw": [r.scadavalue for r in scada.rows]}
            )
            .join(registry.select("duid", "region", "fuel"), on="duid", how="left")
            .with_columns(
                pl.col("region").fill_null("unknown"), pl.col("fuel").fill_null("unknown")
            )
        )
        rooftop = pl.DataFrame(
            {
                "region": [r.regionid for r in roof.rows if not r.is_subregion],
                "fuel": "rooftop_solar",
                "mw": [r.power for r in roof.rows if not r.is_subregion],
            }
        )
        both = pl.concat([generation.select("region", "fuel", "mw"), rooftop])
        assert records["region"].to_list() == ["NSW1", "QLD1", "SA1", "TAS1", "VIC1", "NEM"]
        for row in records.iter_rows(named=True):
            own = both if row["region"] == "NEM" else both.filter(pl.col("region") == row["region"])
            assert row["record_share"] == pytest.approx(_share(own))
            # only the half-hour to 19:30 counts: 19:00 is partial, 20:00 has no rooftop PV
            assert (row["record_interval"], row["half_hours"]) == (h1930, 1)
            assert (row["since"], row["until"]) == (h1930, h1930)
            assert (row["hour"], row["hour_record_share"]) == (19, row["record_share"])
        sa = records.filter(pl.col("region") == "SA1").row(0, named=True)
        assert sa["total_mw"] > sa["renewable_mw"] > 0
        assert query.renewable_records(at=day.replace(hour=12))["hour_record_share"].is_null().all()
        assert query.renewable_records(regions=["SA1"])["region"].to_list() == ["SA1"]
        # rooftop PV for 20:00 lands: that half-hour counts, with the same share; the first
        # half-hour to reach a record keeps it
        store = Store(tmp_path / "store")
        try:
            store.write([restamped(roof, h2000)])
            # and a half-hour from the 30-minute table with ten times the rooftop PV (generated;
            # at 19:30 only SA1's is above zero)
            brighter = roof.model_copy(
                update={
                    "interval": day.replace(hour=21).replace(tzinfo=NEM_TZ),
                    "rows": [
                        r.model_copy(update={"power": (r.power or 0) * 10}) for r in roof.rows
                    ],
                }
            )
            half = ThirtyMinute(
                feed="aggregator",
                source_file="aggregator",
                interval=day.replace(hour=21).replace(tzinfo=NEM_TZ),
                table="scada.unit",
                measure="scadavalue",
                complete=True,
                rows=[MeanRow(key=r.duid, mean=r.scadavalue, intervals=6) for r in scada.rows],
            )
            store.write(
                [
                    unit_from_message(ROOFTOP_ACTUAL, brighter),
                    unit_from_message(SCADA_UNIT_30MIN, half),
                ]
            )
        finally:
            store.close()
        again = query.renewable_records(at=h1930)
        sa = again.filter(pl.col("region") == "SA1").row(0, named=True)
        assert sa["record_interval"] == day.replace(hour=21) and sa["half_hours"] == 3
        assert sa["hour_record_interval"] == h1930  # 21:00 is not in the hour of 19:30
        nsw = again.filter(pl.col("region") == "NSW1").row(0, named=True)
        assert nsw["record_interval"] == h1930  # its rooftop PV is zero at night: a tie, kept
    finally:
        query.close()


# --- price analytics: time-weighted, half-hours count six ----------------------------------------


def _weighted(samples: SampleSet, region: str) -> pl.DataFrame:
    """The month's prices as the store holds them, computed here: 5-minute prices outside the
    gap day (weight 1), the half-hourly means of the gap day (weight 6)."""
    real = real_prices(samples).filter(pl.col("regionid") == region)
    in_gap = pl.col("interval").is_between(*PRICE_GAP, closed="right")
    halves = (
        real.filter(in_gap)
        .group_by((pl.col("interval") - FIVE).dt.truncate("30m") + timedelta(minutes=30))
        .agg(pl.col("rrp").mean())
    )
    return pl.concat(
        [
            real.filter(~in_gap).select("interval", "rrp", pl.lit(1).alias("weight")),
            halves.select("interval", "rrp", pl.lit(6).alias("weight")),
        ]
    )


def test_price_analytics_weigh_half_hours_by_time_on_the_real_archive(
    query: Query, samples: SampleSet
) -> None:
    counts = query.price_counts(*MARCH)
    distribution = query.price_distribution(*MARCH)
    duration = query.price_duration(*MARCH, points=101)
    profile = query.price_profile(*MARCH)
    for region in ("NSW1", "SA1"):
        prices = _weighted(samples, region)
        assert prices.filter(pl.col("weight") == 6).height == 48
        weight = pl.col("weight")
        row = counts.filter(pl.col("region") == region).row(0, named=True)
        assert row["negative"] == prices.filter(pl.col("rrp") < 0)["weight"].sum()
        assert row["at_least_300"] == prices.filter(pl.col("rrp") >= 300)["weight"].sum()
        assert row["intervals"] == prices["weight"].sum() and row["expected"] == 31 * 288
        assert not row["complete"]
        bins = distribution.filter(pl.col("region") == region)
        assert bins["count"].sum() == prices["weight"].sum() and bins[
            "share"
        ].sum() == pytest.approx(1)
        for b in bins.iter_rows(named=True):
            inside = prices.filter((pl.col("rrp") >= b["low"]) & (pl.col("rrp") < b["high"]))
            assert b["count"] == inside["weight"].sum()
        assert bins["high"].max() == 20_300  # to the cap of FY 2025-26
        curve = duration.filter(pl.col("region") == region)
        total = float(prices["weight"].sum())
        assert curve["rrp"][0] == prices["rrp"].max() and curve["rrp"][-1] == prices["rrp"].min()
        for point in curve.iter_rows(named=True):  # what a duration curve means, time-weighted
            # (half-hour means here and in the store may differ in the last bit: 1e-9 slack)
            above = float(prices.filter(pl.col("rrp") > point["rrp"] + 1e-9)["weight"].sum())
            at_or_above = float(prices.filter(pl.col("rrp") >= point["rrp"] - 1e-9)["weight"].sum())
            assert above / total <= point["share_of_time"] + 1e-12 <= at_or_above / total + 2e-12
        slots = (
            prices.with_columns(
                ((pl.col("interval") - FIVE).dt.truncate("30m") + timedelta(minutes=30))
                .dt.strftime("%H:%M")
                .alias("time_of_day")
            )
            .group_by("time_of_day")
            .agg(
                ((pl.col("rrp") * weight).sum() / weight.sum()).alias("rrp"),
                weight.sum().alias("n"),
            )
        )
        mine = profile.filter(pl.col("region") == region).join(slots, on="time_of_day")
        assert mine.height == 48
        assert np.allclose(mine["rrp"].to_numpy(), mine["rrp_right"].to_numpy())
        assert (mine["intervals"] == mine["n"]).all() and (mine["expected"] == 31 * 6).all()
    assert profile.filter(pl.col("region") == "SA1")["time_of_day"].to_list()[-1] == "00:00"
    together = query.price_analytics(*MARCH)  # one read, the same four answers
    # the same to the last bits DuckDB's parallel sums allow (their order varies run to run)
    for one, alone in (
        (together.profile, profile),
        (together.counts, counts),
        (together.distribution, distribution),
        (together.duration, query.price_duration(*MARCH)),
    ):
        assert_frame_equal(one, alone, check_exact=False, rel_tol=1e-9)


def test_a_half_hour_counts_six_five_minute_intervals(tmp_path: Path) -> None:
    """Generated: six 5-minute prices of 0 $/MWh, then a half-hour known only by its mean of
    400 $/MWh (no 5-minute price)."""
    day = datetime(2025, 6, 1)
    h1, h2 = day + timedelta(minutes=30), day + timedelta(hours=1)
    store = Store(tmp_path / "store")
    try:
        store.write(
            [
                _prices(h1 - FIVE * i, [DispatchPriceRow(regionid="SA1", intervention=0, rrp=0.0)])
                for i in range(6)
            ]
        )
        half = ThirtyMinute(
            feed="aggregator",
            source_file="aggregator",
            interval=h2.replace(tzinfo=NEM_TZ),
            table="dispatch.price",
            measure="rrp",
            complete=True,
            rows=[MeanRow(key="SA1", mean=400.0, intervals=6)],
        )
        store.write([unit_from_message(DISPATCH_PRICE_30MIN, half)])
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path, query_cache_size=0))
    try:
        counts = query.price_counts(day, h2).row(0, named=True)
        assert (counts["at_least_300"], counts["negative"], counts["intervals"]) == (6, 0, 12)
        assert counts["complete"]
        bins = query.price_distribution(day, h2).filter(pl.col("count") > 0)
        assert bins.select("low", "count", "share").rows() == [(0.0, 6, 0.5), (300.0, 6, 0.5)]
        curve = query.price_duration(day, h2, points=5)
        assert curve["rrp"].to_list() == [400, 400, 400, 0, 0]  # half the time at 400
        thirty = query.price_profile(day, h2)
        assert thirty.select("time_of_day", "rrp", "intervals").rows() == [
            ("00:30", 0, 6),
            ("01:00", 400, 6),
        ]
        five = query.price_profile(day, h2, minutes=5)
        assert five.height == 12 and (five["intervals"] == 1).all() and five["complete"].all()
        assert five.filter(pl.col("rrp") == 400)["time_of_day"].to_list() == [
            "00:35",
            "00:40",
            "00:45",
            "00:50",
            "00:55",
            "01:00",
        ]
    finally:
        query.close()


# --- curtailment --------------------------------------------------------------------------------


def _regionsum(at: datetime, rows: list[RegionSumRow]) -> Unit:
    message = DispatchRegionSum(
        feed="dispatch", source_file="generated", interval=at.replace(tzinfo=NEM_TZ), rows=rows
    )
    return unit_from_message(DISPATCH_REGIONSUM, message)


def _sums(region: str, intervention: int, **mw: float) -> RegionSumRow:
    return RegionSumRow(
        regionid=region,
        intervention=intervention,
        totaldemand=1000,
        dispatchablegeneration=1000,
        netinterchange=0,
        **mw,
    )


def test_curtailment_is_clipped_at_zero_before_averaging(tmp_path: Path) -> None:
    """Generated: SA1's solar cleared alternately 20 MW above and 40 MW below its availability;
    an intervention run with other values; VIC1 without wind figures."""
    day = datetime(2025, 6, 1)
    half = day + timedelta(minutes=30)
    units = []
    for i in range(6):
        cleared = 120.0 if i % 2 == 0 else 60.0
        units.append(
            _regionsum(
                day + FIVE * (i + 1),
                [
                    _sums(
                        "SA1",
                        0,
                        ss_solar_uigf=100,
                        ss_solar_clearedmw=cleared,
                        ss_wind_uigf=50,
                        ss_wind_clearedmw=30,
                    ),
                    _sums(
                        "SA1",
                        1,
                        ss_solar_uigf=900,
                        ss_solar_clearedmw=0,
                        ss_wind_uigf=900,
                        ss_wind_clearedmw=0,
                    ),
                    _sums("VIC1", 0, ss_solar_uigf=10, ss_solar_clearedmw=10),
                ],
            )
        )
    store = Store(tmp_path / "store")
    try:
        store.write(units)
    finally:
        store.close()
    query = Query(QuerySettings(data_dir=tmp_path, query_cache_size=0))
    try:
        five = query.curtailment(day, half, regions=["SA1"])
        assert five.resolution is Resolution.FIVE and five.coverage == 1.0
        assert five.frame["solar_mw"].to_list() == [0, 40, 0, 40, 0, 40]  # never -20
        assert (five.frame["wind_mw"] == 20).all() and (five.frame["intervals"] == 1).all()
        thirty = query.curtailment(day, half, regions=["SA1", "NEM"], resolution=Resolution.THIRTY)
        assert thirty.frame.select(
            "region", "solar_mw", "wind_mw", "total_mw", "intervals", "complete"
        ).rows() == [
            ("NEM", 20, 20, 40, 6, True),
            ("SA1", 20, 20, 40, 6, True),  # the mean of 0 and 40, not of -20 and 40
        ]
        vic = query.curtailment(day, half, regions=["VIC1"], resolution=Resolution.THIRTY).frame
        assert vic.select("solar_mw", "wind_mw", "total_mw").rows() == [(0, None, 0)]
        daily = query.curtailment(day, day + timedelta(days=1), resolution=Resolution.DAILY).frame
        assert daily.filter(pl.col("region") == "SA1").select(
            "interval", "solar_mw", "intervals", "complete"
        ).rows() == [
            (day + timedelta(days=1), 20, 6, False)  # 6 of the day's 288
        ]
    finally:
        query.close()


def stored_regionsum(samples: SampleSet, tmp_path: Path) -> pl.DataFrame:
    """Store the real December 2025 DispatchIS; return its regional summary (pricing run) as
    the independent reading to check answers against."""
    store = Store(tmp_path / "store")
    try:
        store.write(units_of(samples, names.DISPATCHIS_2025))
    finally:
        store.close()
    return views.pricing_run(
        views.dispatch_regionsum(read_report(samples.path(names.DISPATCHIS_2025)))
    )


def test_curtailment_on_a_real_dispatch_file(samples: SampleSet, tmp_path: Path) -> None:
    real = stored_regionsum(samples, tmp_path)
    at = datetime(2025, 12, 27, 0, 5)
    query = Query(QuerySettings(data_dir=tmp_path))
    try:
        frame = query.curtailment(at - timedelta(hours=1), at).frame
    finally:
        query.close()
    joined = frame.join(real, left_on="region", right_on="regionid")
    assert joined.height == 5
    solar = (joined["ss_solar_uigf"] - joined["ss_solar_clearedmw"]).clip(lower_bound=0)
    wind = (joined["ss_wind_uigf"] - joined["ss_wind_clearedmw"]).clip(lower_bound=0)
    assert np.allclose(joined["solar_mw"].to_numpy(), solar.to_numpy())
    assert np.allclose(joined["wind_mw"].to_numpy(), wind.to_numpy())
    assert joined.filter(pl.col("region") == "VIC1")["total_mw"].item() > 100  # real curtailment


def test_net_imports_are_netinterchange_negated_on_a_real_dispatch_file(
    samples: SampleSet, tmp_path: Path
) -> None:
    """AEMO counts export as positive; the stack draws exports below zero. Across the five
    regions the flows cancel but for the interconnectors' losses."""
    real = stored_regionsum(samples, tmp_path)
    at = datetime(2025, 12, 27, 0, 5)
    query = Query(QuerySettings(data_dir=tmp_path))
    try:
        answer = query.net_imports(at - timedelta(hours=1), at, regions=list(REGIONS))
        assert query.net_imports(at - timedelta(hours=1), at, regions=["NEM"]).frame.is_empty()
    finally:
        query.close()
    frame = answer.frame.join(real, left_on="region", right_on="regionid")
    assert frame.height == 5 and frame["complete"].all()
    assert np.allclose(frame["mw"].to_numpy(), -frame["netinterchange"].to_numpy())
    exporters = frame.filter(pl.col("netinterchange") > 0)
    assert exporters.height and (exporters["mw"] < 0).all()
    losses = -float(frame["mw"].sum())
    assert 0 <= losses < 0.1 * float(frame["mw"].abs().sum())


# --- nothing to answer ----------------------------------------------------------------------------


def _everything(query: Query, start: datetime, end: datetime) -> dict[str, pl.DataFrame]:
    detail = query.station_detail(start, end, duid="BW01")
    assert detail.revenue_aud is None and detail.capacity_factor is None
    return {
        "price_now": query.price_now(end),
        "recent_prices": query.recent_prices(end),
        "interconnectors_now": query.interconnectors_now(end),
        "renewable_records": query.renewable_records(at=end),
        "curtailment": query.curtailment(start, end, regions=["NEM"]).frame,
        "net_imports": query.net_imports(start, end, regions=["SA1"]).frame,
        "rooftop_by_region": query.rooftop_by_region(start, end),
        "utilisation_by_fuel": query.utilisation_by_fuel(start, end),
        "revenue_by_unit": query.revenue_by_unit(start, end),
        "price_profile": query.price_profile(start, end),
        "price_duration": query.price_duration(start, end),
        "price_distribution": query.price_distribution(start, end),
        "price_counts": query.price_counts(start, end),
        "station_output": detail.output,
        "station_series": detail.series,
        "station_profile": detail.profile,
    }


COLUMNS = {
    "price_now": [
        "region",
        "interval",
        "rrp",
        "previous_rrp",
        "change",
        "avg_1h",
        "avg_24h",
        "intervals_1h",
        "intervals_24h",
        "complete",
        "price_status",
        "apcflag",
        "marketsuspendedflag",
        "status",
        "cap",
    ],
    "recent_prices": ["interval", "region", "rrp"],
    "interconnectors_now": [
        "interconnectorid",
        "interval",
        "from_region",
        "to_region",
        "mw",
        "target_mw",
        "export_limit",
        "import_limit",
        "direction",
        "utilisation",
        "at_limit",
    ],
    "renewable_records": [
        "region",
        "record_share",
        "record_interval",
        "renewable_mw",
        "total_mw",
        "hour",
        "hour_record_share",
        "hour_record_interval",
        "half_hours",
        "since",
        "until",
    ],
    "curtailment": [
        "interval",
        "region",
        "solar_mw",
        "wind_mw",
        "total_mw",
        "minutes",
        "intervals",
        "complete",
    ],
    "net_imports": ["interval", "region", "mw", "minutes", "intervals", "complete"],
    "rooftop_by_region": [
        "interval",
        "regionid",
        "parent_region",
        "is_subregion",
        "mw",
        "type",
        "minutes",
        "intervals",
        "complete",
    ],
    "utilisation_by_fuel": [
        "fuel",
        "mw",
        "mwh",
        "capacity_mw",
        "units",
        "utilisation",
        "intervals",
        "expected",
        "complete",
    ],
    "revenue_by_unit": [
        "region",
        "fuel",
        "station_name",
        "duid",
        "gwh",
        "revenue_maud",
        "price_received",
        "mw",
        "capacity_mw",
        "utilisation",
        "intervals",
        "expected",
        "complete",
    ],
    "price_profile": ["region", "time_of_day", "rrp", "intervals", "expected", "complete"],
    "price_duration": ["region", "share_of_time", "rrp", "intervals", "expected", "complete"],
    "price_distribution": ["region", "low", "high", "count", "share"],
    "price_counts": [
        "region",
        "negative",
        "at_least_300",
        "at_least_1000",
        "at_least_10000",
        "intervals",
        "expected",
        "complete",
    ],
    "station_output": ["interval", "mw", "minutes", "intervals", "complete"],
    "station_series": ["interval", "mw", "rrp", "minutes", "intervals", "complete"],
    "station_profile": ["time_of_day", "mw", "intervals"],
}
"""The columns each answer has, rows or none."""


def test_an_empty_store_and_an_empty_range_answer_empty(tmp_path: Path, query: Query) -> None:
    empty = Query(QuerySettings(data_dir=tmp_path))
    try:
        day = datetime(2026, 3, 1)
        for span in (timedelta(hours=4), timedelta(days=7), timedelta(days=400)):
            found = _everything(empty, day, day + span)
            for name, frame in found.items():
                assert frame.is_empty(), name
                assert frame.columns == COLUMNS.get(name, frame.columns), name
        assert empty.units("anything").is_empty()
        assert empty.units().columns == ["duid", "station_name", "region", "fuel", "capacity_mw"]
    finally:
        empty.close()
    # a range the real store holds nothing for: the same columns, no rows
    far = datetime(2030, 1, 1)
    before = _everything(query, far, far + timedelta(hours=4))
    for name in (
        "curtailment",
        "net_imports",
        "rooftop_by_region",
        "utilisation_by_fuel",
        "revenue_by_unit",
        "price_profile",
        "price_duration",
        "price_distribution",
        "price_counts",
        "station_output",
        "station_series",
    ):
        assert before[name].is_empty(), name
        assert before[name].columns == found[name].columns, name
    assert query.price_now(datetime(2000, 1, 1)).is_empty()
    assert query.price_now(datetime(2000, 1, 1)).columns == list(PRICE_NOW_SCHEMA)
