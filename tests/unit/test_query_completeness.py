"""Every answer that averages says how many 5-minute values stand behind each row.

A half-hour the aggregator averaged from four 5-minute prices (two dispatch files never came) is
an ordinary-looking 30-minute price; the answer must say ``intervals`` 4 and ``complete`` false,
while a half-hour of six says 6 and true. The stores here are small and generated (the
arithmetic under test is the query layer's counting, not AEMO's data); `test_query.py` checks
the same columns on the real March 2026 archive, whose first half-hour of 30 March holds a
single price.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_INTERCONNECTOR_30MIN,
    DISPATCH_PRICE,
    DISPATCH_PRICE_30MIN,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    SCADA_UNIT_30MIN,
    DispatchInterconnector,
    DispatchPrice,
    DispatchPriceRow,
    InterconnectorRow,
    MeanRow,
    RooftopActual,
    RooftopRow,
    ThirtyMinute,
    UnitScada,
    UnitScadaRow,
)
from nemstream_query import Query, QuerySettings, Resolution
from nemstream_store import Store, Unit, rebuild_daily, unit_from_message

NEM = timezone(timedelta(hours=10))  # NEM time, no daylight saving
DAY = datetime(2025, 6, 1)
FIVE = timedelta(minutes=5)
H1 = DAY + timedelta(minutes=30)  # a half-hour with all six 5-minute values
H2 = DAY + timedelta(hours=1)  # a half-hour missing the files at 00:45 and 00:55
H1_FIVES = [DAY + FIVE * i for i in range(1, 7)]
H2_FIVES = [H1 + FIVE * i for i in (1, 2, 4, 6)]
REGIONS = ("NSW1", "SA1")
UNITS = pl.DataFrame(  # COALB is the unit with gaps; its station and fuel have whole units too
    {
        "duid": ["WINDA", "COALB", "COALC", "COALN"],
        "station_name": ["Wind A", "Coal B", "Coal B", "Coal N"],
        "region": ["SA1", "SA1", "SA1", "NSW1"],
        "fuel": ["wind", "coal", "coal", "coal"],
    }
)
DUIDS = tuple(UNITS["duid"])
WHOLE = dict.fromkeys(DUIDS, 6)


def rrp(region: str, at: datetime) -> float:
    """A generated price that differs by region and interval (so means are checkable)."""
    return (50.0 if region == "NSW1" else 80.0) + at.hour * 60 + at.minute


def price5(at: datetime) -> Unit:
    message = DispatchPrice(
        feed="dispatch",
        source_file=f"PUBLIC_DISPATCHIS_{at:%Y%m%d%H%M}_0000000000000001.zip",
        interval=at.replace(tzinfo=NEM),
        rows=[DispatchPriceRow(regionid=r, intervention=0, rrp=rrp(r, at)) for r in REGIONS],
    )
    return unit_from_message(DISPATCH_PRICE, message)


def half_hour(subject: str, table: str, measure: str, end: datetime, rows: list[MeanRow]) -> Unit:
    """A half-hour as the aggregator stores it: each key's mean and its count of values."""
    message = ThirtyMinute(
        feed="aggregator",
        source_file="aggregator",
        interval=end.replace(tzinfo=NEM),
        table=table,
        measure=measure,
        complete=all(r.intervals == 6 for r in rows),
        rows=rows,
    )
    return unit_from_message(subject, message)


def price30(end: datetime, fives: list[datetime]) -> Unit:
    rows = [
        MeanRow(key=r, mean=sum(rrp(r, t) for t in fives) / len(fives), intervals=len(fives))
        for r in REGIONS
    ]
    return half_hour(DISPATCH_PRICE_30MIN, "dispatch.price", "rrp", end, rows)


def scada5(at: datetime, duids: tuple[str, ...] = DUIDS) -> Unit:
    message = UnitScada(
        feed="scada",
        source_file=f"PUBLIC_DISPATCHSCADA_{at:%Y%m%d%H%M}_0000000000000001.zip",
        interval=at.replace(tzinfo=NEM),
        rows=[UnitScadaRow(duid=d, scadavalue=100.0 if d == "WINDA" else 400.0) for d in duids],
    )
    return unit_from_message(SCADA_UNIT, message)


def scada30(end: datetime, counts: dict[str, int]) -> Unit:
    rows = [
        MeanRow(key=d, mean=100.0 if d == "WINDA" else 400.0, intervals=n)
        for d, n in counts.items()
    ]
    return half_hour(SCADA_UNIT_30MIN, "scada.unit", "scadavalue", end, rows)


def flow5(at: datetime) -> Unit:
    message = DispatchInterconnector(
        feed="dispatch",
        source_file=f"PUBLIC_DISPATCHIS_{at:%Y%m%d%H%M}_0000000000000001.zip",
        interval=at.replace(tzinfo=NEM),
        rows=[
            InterconnectorRow(
                interconnectorid="V-SA", intervention=0, meteredmwflow=90, mwflow=95, mwlosses=1
            )
        ],
    )
    return unit_from_message(DISPATCH_INTERCONNECTOR, message)


def flow30(end: datetime, intervals: int) -> Unit:
    rows = [MeanRow(key="V-SA", mean=90.0, intervals=intervals)]
    return half_hour(
        DISPATCH_INTERCONNECTOR_30MIN, "dispatch.interconnector", "meteredmwflow", end, rows
    )


def rooftop(end: datetime) -> Unit:
    message = RooftopActual(
        feed="rooftop",
        source_file=f"PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_{end:%Y%m%d%H%M}00_0000000000000001.zip",
        interval=end.replace(tzinfo=NEM),
        type="MEASUREMENT",
        rows=[RooftopRow(regionid="SA1", power=300.0, is_subregion=False)],
    )
    return unit_from_message(ROOFTOP_ACTUAL, message)


Build = Callable[..., Query]


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Build]:
    """A store in tmp_path holding `units` (daily rollup rebuilt), and a Query over it."""
    opened: list[Query] = []

    def make(
        units: list[Unit], *, five_minute_max_h: float = 48.0, thirty_minute_max_d: float = 92.0
    ) -> Query:
        store = Store(tmp_path / "store")
        try:
            store.write(units)
            rebuild_daily(store, "2025-06", UNITS.select("duid", "region"))
        finally:
            store.close()
        settings = QuerySettings(
            data_dir=tmp_path,
            query_cache_size=0,
            query_five_minute_max_h=five_minute_max_h,
            query_thirty_minute_max_d=thirty_minute_max_d,
        )
        query = Query(settings, UNITS)
        opened.append(query)
        return query

    yield make
    for query in opened:
        query.close()


def rows(frame: pl.DataFrame, *keys: str) -> list[tuple[object, ...]]:
    return frame.sort(*keys).select(*keys, "intervals", "complete").rows()


# --- prices -------------------------------------------------------------------------------------


def test_a_half_hour_of_four_prices_says_4_not_complete(build: Build) -> None:
    fives = H1_FIVES + H2_FIVES
    query = build([price5(t) for t in fives] + [price30(H1, H1_FIVES), price30(H2, H2_FIVES)])
    answer = query.prices(DAY, H2, resolution=Resolution.THIRTY)
    assert answer.resolution is Resolution.THIRTY and answer.filled == 0
    assert rows(answer.frame, "interval", "region") == [
        (H1, "NSW1", 6, True),
        (H1, "SA1", 6, True),
        (H2, "NSW1", 4, False),
        (H2, "SA1", 4, False),
    ]
    assert answer.partial == 2
    partial = answer.frame.filter(pl.col("interval") == H2, pl.col("region") == "SA1")
    assert partial["rrp"].item() == pytest.approx(sum(rrp("SA1", t) for t in H2_FIVES) / 4)
    assert partial["minutes"].item() == 30  # still a half-hour: the count says it is partial


def test_half_hours_made_from_five_minute_prices_count_them(build: Build) -> None:
    """No 30-minute table at all: the half-hours are the means of the 5-minute prices."""
    query = build([price5(t) for t in H1_FIVES + H2_FIVES])
    answer = query.prices(DAY, H2, regions=["NSW1"], resolution=Resolution.THIRTY)
    assert answer.filled == 2 and "prices5" in answer.sources
    assert rows(answer.frame, "interval") == [(H1, 6, True), (H2, 4, False)]


def test_five_minute_prices_are_one_of_one_and_a_filled_half_hour_keeps_its_count(
    build: Build,
) -> None:
    """5-minute prices only for the first half-hour; the second from its 30-minute mean."""
    query = build([price5(t) for t in H1_FIVES] + [price30(H1, H1_FIVES), price30(H2, H2_FIVES)])
    answer = query.prices(DAY, H2, regions=["SA1"], resolution=Resolution.FIVE)
    assert answer.filled == 1
    frame = answer.frame
    five = frame.filter(pl.col("minutes") == 5)
    assert five.height == 6 and (five["intervals"] == 1).all() and five["complete"].all()
    assert frame.filter(pl.col("minutes") == 30).select(
        "interval", "intervals", "complete"
    ).rows() == [(H2, 4, False)]


def test_daily_prices_count_the_five_minute_prices_of_the_day(build: Build) -> None:
    """Day 1: the half-hour ending 01:00 averaged from four prices, the one ending 12:00
    missing; day 2 whole (the half-hours' counts matter here, not their means)."""
    noon = DAY + timedelta(hours=12)
    ends = [DAY + timedelta(minutes=30 * i) for i in range(1, 97)]
    query = build(
        [
            half_hour(
                DISPATCH_PRICE_30MIN,
                "dispatch.price",
                "rrp",
                end,
                [MeanRow(key="NSW1", mean=50.0, intervals=4 if end == H2 else 6)],
            )
            for end in ends
            if end != noon
        ]
    )
    answer = query.prices(
        DAY, DAY + timedelta(days=2), regions=["NSW1"], resolution=Resolution.DAILY
    )
    assert answer.resolution is Resolution.DAILY
    assert rows(answer.frame, "interval") == [
        (DAY + timedelta(days=1), 46 * 6 + 4, False),  # 280 of 288
        (DAY + timedelta(days=2), 288, True),
    ]
    assert (answer.frame["minutes"] == 1440).all()


def test_price_stats_count_the_prices_they_stand_on(build: Build) -> None:
    query = build([price5(t) for t in H1_FIVES + H2_FIVES] + [price30(H1, H1_FIVES)])
    stats = query.price_stats(DAY, H2)
    assert stats.select("region", "intervals5", "intervals", "expected", "complete").rows() == [
        ("NSW1", 10, 10, 12, False),
        ("SA1", 10, 10, 12, False),
    ]
    whole = query.price_stats(DAY, H1)
    assert whole.select("intervals", "expected", "complete").rows() == [(6, 6, True)] * 2
    # the statistics themselves are the same as before
    assert whole["mean"].to_list() == pytest.approx(
        [sum(rrp(r, t) for t in H1_FIVES) / 6 for r in REGIONS]
    )


def test_price_stats_count_a_merged_half_hour_by_its_own_count(build: Build) -> None:
    query = build([price5(t) for t in H1_FIVES] + [price30(H1, H1_FIVES), price30(H2, H2_FIVES)])
    stats = query.price_stats(DAY, H2, regions=["SA1"])
    row = stats.row(0, named=True)
    assert (row["intervals5"], row["intervals30"]) == (6, 1)
    assert (row["intervals"], row["expected"], row["complete"]) == (6 + 4, 12, False)
    assert row["hours"] == pytest.approx(1.0)  # the half-hour still weighs 30 minutes


def test_an_empty_store_answers_with_the_new_columns(build: Build) -> None:
    query = build([])
    for span in (timedelta(hours=1), timedelta(days=7), timedelta(days=400)):
        assert {"intervals", "complete"} <= set(query.prices(DAY, DAY + span).frame.columns)
        assert {"intervals", "complete"} <= set(query.generation_by_fuel(DAY, DAY + span).columns)
    stats = query.price_stats(DAY, DAY + timedelta(days=1))
    assert stats.is_empty() and {"intervals", "expected", "complete"} <= set(stats.columns)


# --- generation ---------------------------------------------------------------------------------


def test_generation_half_hours_say_the_fewest_values_of_any_unit(build: Build) -> None:
    query = build(
        [
            scada30(H1, WHOLE),
            scada30(H2, {**WHOLE, "COALB": 4}),
            rooftop(H1),
            rooftop(H2),
        ]
    )
    answer = query.generation(DAY, H2, resolution=Resolution.THIRTY)
    assert rows(answer.frame, "interval", "region", "fuel") == [
        (H1, "NSW1", "coal", 6, True),
        (H1, "SA1", "coal", 6, True),
        (H1, "SA1", "rooftop_solar", 6, True),  # AEMO's half-hourly estimate: a whole half-hour
        (H1, "SA1", "wind", 6, True),
        (H2, "NSW1", "coal", 6, True),
        (H2, "SA1", "coal", 4, False),  # COALC had all six, COALB four: the row says 4
        (H2, "SA1", "rooftop_solar", 6, True),
        (H2, "SA1", "wind", 6, True),
    ]
    stack = query.generation_by_fuel(DAY, H2, resolution=Resolution.THIRTY, rooftop=False)
    assert rows(stack, "interval", "fuel") == [
        (H1, "coal", 6, True),
        (H1, "wind", 6, True),
        (H2, "coal", 4, False),
        (H2, "wind", 6, True),
    ]
    assert stack.columns[:5] == ["interval", "fuel", "mw", "minutes", "mwh"]  # as before
    regional = query.generation_by_fuel(
        DAY, H2, by_region=True, resolution=Resolution.THIRTY, rooftop=False
    )
    assert rows(regional.filter(pl.col("interval") == H2), "region", "fuel") == [
        ("NSW1", "coal", 6, True),
        ("SA1", "coal", 4, False),
        ("SA1", "wind", 6, True),
    ]
    share = query.renewable_share(DAY, H2, resolution=Resolution.THIRTY)
    assert rows(share, "interval") == [(H1, 6, True), (H2, 4, False)]
    # rooftop at 5 minutes: each 5-minute value is one of one
    five = query.generation(DAY, H2, resolution=Resolution.FIVE).frame
    roof = five.filter(pl.col("fuel") == "rooftop_solar")
    assert roof.height > 0 and (roof["intervals"] == 1).all() and roof["complete"].all()


def test_generation_half_hours_made_from_five_minute_scada_count_them(build: Build) -> None:
    """No 30-minute SCADA: in the second half-hour COALB has four values, the others six."""
    units = [scada5(t) for t in H1_FIVES + H2_FIVES]
    others = tuple(d for d in DUIDS if d != "COALB")
    units += [scada5(t, others) for t in (H1 + FIVE * 3, H1 + FIVE * 5)]
    query = build(units)
    stack = query.generation_by_fuel(DAY, H2, resolution=Resolution.THIRTY, rooftop=False)
    assert rows(stack, "interval", "fuel") == [
        (H1, "coal", 6, True),
        (H1, "wind", 6, True),
        (H2, "coal", 4, False),
        (H2, "wind", 6, True),
    ]
    five = query.generation_by_fuel(DAY, H2, resolution=Resolution.FIVE, rooftop=False)
    assert five.height == 2 * 12  # one row per fuel and 5-minute interval
    assert (five["intervals"] == 1).all() and five["complete"].all()


def test_five_minute_generation_filled_from_a_partial_half_hour(build: Build) -> None:
    units = [scada5(t) for t in H1_FIVES]
    units += [scada30(H1, WHOLE), scada30(H2, {**WHOLE, "COALB": 4})]
    query = build(units)
    answer = query.generation(DAY, H2, resolution=Resolution.FIVE, rooftop=False)
    assert answer.filled == 1
    filled = answer.frame.filter(pl.col("minutes") == 30)
    assert rows(filled, "region", "fuel") == [
        ("NSW1", "coal", 6, True),
        ("SA1", "coal", 4, False),
        ("SA1", "wind", 6, True),
    ]
    assert answer.partial == 1


def test_daily_generation_and_revenue_count_the_day(build: Build) -> None:
    """A whole day of 5-minute SCADA, COALB missing twelve intervals (one hour); rooftop PV
    for 47 of the day's 48 half-hours."""
    stamps = [DAY + FIVE * i for i in range(1, 289)]
    gap = set(stamps[100:112])
    others = tuple(d for d in DUIDS if d != "COALB")
    units = [scada5(t, others if t in gap else DUIDS) for t in stamps]
    units += [rooftop(DAY + timedelta(minutes=30 * i)) for i in range(1, 49) if i != 20]
    query = build(units)
    daily = query.daily_generation_by_fuel(DAY, DAY + timedelta(days=1))
    assert rows(daily, "fuel") == [
        ("coal", 276, False),
        ("rooftop_solar", 47 * 6, False),  # half-hours counted as six 5-minute intervals
        ("wind", 288, True),
    ]
    coal = daily.filter(pl.col("fuel") == "coal")["mwh"].item()
    assert coal == pytest.approx(400 * (276 + 288 + 288) / 12)
    regional = query.daily_generation_by_fuel(DAY, DAY + timedelta(days=1), by_region=True)
    assert rows(regional, "region", "fuel") == [
        ("NSW1", "coal", 288, True),
        ("SA1", "coal", 276, False),
        ("SA1", "rooftop_solar", 282, False),
        ("SA1", "wind", 288, True),
    ]
    share = query.renewable_share(DAY, DAY + timedelta(days=1), resolution=Resolution.DAILY)
    assert rows(share, "interval") == [(DAY + timedelta(days=1), 276, False)]
    revenue = query.revenue_by_station(DAY, DAY + timedelta(days=1))
    assert revenue.sort("station").select(
        "station", "intervals", "expected", "complete"
    ).rows() == [
        ("Coal B", 276, 288, False),  # COALC is whole, COALB is not: the station is partial
        ("Coal N", 288, 288, True),
        ("Wind A", 288, 288, True),
    ]


# --- interconnector flows -----------------------------------------------------------------------


def test_interconnector_flows_count_their_values(build: Build) -> None:
    units = [flow5(t) for t in H1_FIVES]
    units += [flow30(H1, 6), flow30(H2, 4)]
    units += [flow30(DAY + timedelta(days=1, minutes=30 * i), 6) for i in range(1, 49)]
    # spans above 40 minutes are read at 30 minutes, above 1.5 days daily
    query = build(units, five_minute_max_h=2 / 3, thirty_minute_max_d=1.5)
    five = query.interconnector_flows(DAY, H1).frame
    assert five.height == 6 and (five["intervals"] == 1).all() and five["complete"].all()
    assert (five["minutes"] == 5).all()
    thirty = query.interconnector_flows(DAY, H2)
    assert thirty.resolution is Resolution.THIRTY
    assert rows(thirty.frame, "interval") == [(H1, 6, True), (H2, 4, False)]
    daily = query.interconnector_flows(DAY, DAY + timedelta(days=2))
    assert daily.resolution is Resolution.DAILY
    assert rows(daily.frame, "interval") == [
        (DAY + timedelta(days=1), 10, False),  # two half-hours of the day: 6 + 4 of 288
        (DAY + timedelta(days=2), 288, True),
    ]
