"""The dashboard's pure parts: what a chart is given (gaps, the stack's interchange layers),
how a price is shown, and the range a page's controls choose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from nemstream_dashboard._charts import stack_polygons, step_of, wide, with_gaps, with_interchange
from nemstream_dashboard._controls import Controls
from nemstream_dashboard._today import ago, dollars, price_colour

T0 = datetime(2025, 12, 27, 0, 0)
FIVE = timedelta(minutes=5)


def test_a_gap_breaks_the_line_instead_of_bridging_it() -> None:
    times = [T0 + FIVE * i for i in (1, 2, 3, 10, 11)]
    table = pl.DataFrame({"interval": times, "mw": [1.0, 2.0, 3.0, 4.0, 5.0]})
    gapped = with_gaps(table, "interval", FIVE)
    assert gapped.height == 6
    blank = gapped.filter(pl.col("mw").is_null())
    assert blank["interval"].to_list() == [T0 + FIVE * 10 - timedelta(microseconds=1)]
    assert with_gaps(table.head(3), "interval", FIVE).height == 3  # no gap, nothing added


def test_the_step_comes_from_the_rows_minutes() -> None:
    assert step_of(pl.DataFrame({"minutes": [30, 30]})) == timedelta(minutes=30)
    assert step_of(pl.DataFrame({"mw": [1.0]})) is None


def test_wide_sums_repeated_series_and_fills() -> None:
    long = pl.DataFrame(
        {
            "interval": [T0, T0, T0 + FIVE],
            "fuel": ["coal", "coal", "wind"],
            "mw": [1.0, 2.0, 4.0],
        }
    )
    table = wide(long, "interval", "fuel", "mw", fill=0.0)
    assert table.rows() == [(T0, 3.0, 0.0), (T0 + FIVE, 0.0, 4.0)]


def _fuels(*times: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "interval": [t for t in times for _ in range(2)],
            "fuel": ["coal", "battery"] * len(times),
            "mw": [500.0, -20.0] * len(times),
            "minutes": [5] * 2 * len(times),
            "intervals": [1] * 2 * len(times),
            "complete": [True] * 2 * len(times),
        }
    )


def test_net_imports_join_the_stack_above_zero_and_exports_below() -> None:
    fuels = _fuels(T0 + FIVE, T0 + 2 * FIVE)
    net = pl.DataFrame(
        {
            "interval": [T0 + FIVE, T0 + 2 * FIVE, T0 + 3 * FIVE],  # the last: no SCADA
            "region": ["SA1"] * 3,
            "mw": [150.0, -80.0, 999.0],
            "minutes": [5, 5, 5],
            "intervals": [1, 1, 1],
            "complete": [True, True, True],
        }
    )
    stacked = with_interchange(fuels, net)
    assert stacked.columns == fuels.columns
    flows = stacked.filter(pl.col("fuel").is_in(["imports", "exports"]))
    assert flows.select("interval", "fuel", "mw").rows() == [
        (T0 + FIVE, "imports", 150.0),
        (T0 + 2 * FIVE, "exports", -80.0),
    ]
    assert (stacked.filter(pl.col("fuel") == "battery")["mw"] < 0).all()  # charging stays below
    assert with_interchange(fuels, net.clear()).equals(fuels)
    assert with_interchange(fuels.clear(), net).is_empty()


@pytest.mark.parametrize(
    ("rrp", "colour"),
    [
        (-41.31, "#2b7bba"),
        (0.0, "#2e8b57"),
        (299.99, "#2e8b57"),
        (300.0, "#e0a020"),
        (1000.0, "#d9534f"),
        (17500.0, "#7b1f1f"),
        (None, "#9e9e9e"),
    ],
)
def test_a_price_is_coloured_by_level(rrp: float | None, colour: str) -> None:
    assert price_colour(rrp) == colour


def test_prices_and_ages_read_as_people_write_them() -> None:
    assert dollars(-41.31) == "-$41.31"
    assert dollars(17500) == "$17,500.00"
    assert dollars(None) == "–"
    assert [ago(s) for s in (40, 180, 7200, 5 * 86400)] == [
        "40 s ago",
        "3 min ago",
        "2 h ago",
        "5 days ago",
    ]


def test_the_range_ends_at_the_newest_stored_interval() -> None:
    latest, earliest = datetime(2025, 12, 27, 14, 35), datetime(2025, 1, 1, 0, 5)
    controls = Controls()  # type: ignore[no-untyped-call]
    assert controls.window(latest, earliest) == (latest - timedelta(hours=24), latest)
    assert controls.regions == []
    controls.param.update(span="7d", region="SA1")
    assert controls.window(latest, earliest) == (latest - timedelta(days=7), latest)
    assert controls.regions == ["SA1"]
    controls.span = "all"
    assert controls.window(latest, earliest) == (earliest - FIVE, latest)
    controls.param.update(span="custom", start="2025-12-01", end="2025-12-02")
    assert controls.window(latest, earliest) == (datetime(2025, 12, 1), datetime(2025, 12, 2))
    controls.param.update(start="2025-12-03")  # start after end: the default 24 h
    assert controls.window(latest, earliest) == (latest - timedelta(hours=24), latest)
    controls.param.update(start="not a date")
    assert controls.window(latest, earliest) == (latest - timedelta(hours=24), latest)


def test_stacked_bands_sit_on_the_fuels_before_them_and_charging_goes_below_zero() -> None:
    times = [T0 + FIVE * i for i in range(3)]
    table = pl.DataFrame({"interval": times, "coal": [1.0, 2.0, 3.0], "battery": [-1.0, 0.0, 2.0]})
    data = as_lists(stack_polygons(table, "interval", ["coal", "wind", "battery"]))
    assert data["name"] == ["coal", "wind", "battery"]
    coal, wind, battery = data["ys"]
    # each value is a step over the five minutes it ends
    assert coal == [[[1.0, 1.0, 2.0, 2.0, 3.0, 3.0] + [0.0] * 6]]
    assert wind == []  # nothing to draw, no polygon
    up, down = battery
    assert up == [[1.0, 1.0, 2.0, 2.0, 5.0, 5.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0]]
    assert down == [[-1.0, -1.0, 0.0, 0.0, 0.0, 0.0] + [0.0] * 6]
    ms = [t.replace(tzinfo=UTC).timestamp() * 1000 for t in times]
    path = [ms[0] - 300_000, ms[0], ms[0], ms[1], ms[1], ms[2]]
    assert data["xs"][0] == [[path + path[::-1]]]
    assert stack_polygons(pl.DataFrame({"interval": []}), "interval", ["coal"])["xs"] == [[]]


def test_a_stack_falls_to_zero_across_a_gap_and_shows_a_lone_interval() -> None:
    times = [T0 + FIVE, T0 + 2 * FIVE, T0 + 10 * FIVE]
    table = pl.DataFrame({"interval": times, "coal": [1.0, 2.0, 3.0], "minutes": [5, 5, 5]})
    data = as_lists(stack_polygons(table, "interval", ["coal"]))
    ms = [t.replace(tzinfo=UTC).timestamp() * 1000 for t in times]
    five = 300_000
    path = [ms[0] - five, ms[0], ms[1] - five, ms[1], ms[1], ms[2] - five, ms[2] - five, ms[2]]
    assert data["xs"][0] == [[path + path[::-1]]]
    assert data["ys"][0] == [[[1.0, 1.0, 2.0, 2.0, 0.0, 0.0, 3.0, 3.0] + [0.0] * 8]]


def as_lists(data: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The polygons' numpy rings as lists, to compare."""
    rings = {
        key: [[[list(ring) for ring in polygon] for polygon in item] for item in data[key]]
        for key in ("xs", "ys")
    }
    return {**data, **rings}
