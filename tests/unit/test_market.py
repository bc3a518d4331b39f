"""The NEM's fixed facts: NEM time is UTC+10 with no daylight saving, intervals end on their
grid, 5-minute settlement starts with the interval ending 2021-10-01 00:05."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from nemstream_market import (
    FIVE_MINUTE_SETTLEMENT_START,
    NEM_TZ,
    REGIONS,
    ROOFTOP_REGIONS,
    ROOFTOP_SUBREGIONS,
    naive_nem,
    nem_time,
    on_grid,
    parent_region,
    trading_interval_minutes,
)


def test_nem_time_is_utc_plus_ten_all_year() -> None:
    for month in (1, 7):  # summer and winter: Sydney moves, the NEM does not
        moment = datetime(2026, month, 1, 0, 0, tzinfo=UTC)
        assert nem_time(moment).utcoffset() == timedelta(hours=10)
        assert naive_nem(moment) == datetime(2026, month, 1, 10, 0)
    assert nem_time(datetime(2026, 1, 1, 10)) == datetime(2026, 1, 1, 10, tzinfo=NEM_TZ)


def test_intervals_end_on_their_grid() -> None:
    assert on_grid(datetime(2026, 3, 1, 0, 5), 5)
    assert not on_grid(datetime(2026, 3, 1, 0, 52), 5)
    assert not on_grid(datetime(2026, 3, 1, 0, 5, 30), 5)
    assert on_grid(datetime(2026, 3, 1, 0, 30), 30)
    assert not on_grid(datetime(2026, 3, 1, 0, 35), 30)
    # an aware instant is judged in NEM time: 14:35 UTC is 00:35 NEM, on the 5 grid only
    utc = datetime(2026, 2, 28, 14, 35, tzinfo=UTC)
    assert on_grid(utc, 5) and not on_grid(utc, 30)
    # a clock two minutes off NEM time puts an interval off the grid
    odd = datetime(2026, 3, 1, 0, 5, tzinfo=timezone(timedelta(hours=9, minutes=58)))
    assert not on_grid(odd, 5)


def test_five_minute_settlement_begins_with_the_interval_ending_00_05() -> None:
    assert datetime(2021, 10, 1, 0, 5) == FIVE_MINUTE_SETTLEMENT_START
    assert trading_interval_minutes(datetime(2021, 10, 1, 0, 0)) == 30
    assert trading_interval_minutes(datetime(2021, 10, 1, 0, 5)) == 5
    aware = datetime(2021, 9, 30, 14, 5, tzinfo=UTC)  # 00:05 NEM time
    assert trading_interval_minutes(aware) == 5


def test_rooftop_sub_regions_belong_to_a_region_and_are_not_regions() -> None:
    assert set(ROOFTOP_SUBREGIONS.values()) <= set(REGIONS)
    assert not set(ROOFTOP_SUBREGIONS) & set(REGIONS)
    assert (*REGIONS, *ROOFTOP_SUBREGIONS) == ROOFTOP_REGIONS
    assert parent_region("QLDN") == "QLD1" and parent_region("SA1") == "SA1"
