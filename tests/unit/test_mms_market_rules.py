"""The market data rules of docs/architecture.md that belong to reading files, one test each."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nemstream_mms import TableKey, merge_reports, read_report, views
from nemstream_testing import SampleSet, names

DISPATCHIS = names.DISPATCHIS_2025
TRADINGIS = names.TRADINGIS


def test_tables_are_chosen_by_name_and_subtype_together(samples: SampleSet) -> None:
    # one report carrying both DISPATCH,PRICE and TRADING,PRICE: a view never mixes them
    both = merge_reports(
        "both",
        [read_report(samples.path(DISPATCHIS)), read_report(samples.path(TRADINGIS))],
    )
    dispatch = views.dispatch_price(both)
    trading = views.trading_price(both)
    assert dispatch.height == 5
    assert dispatch["settlementdate"].unique().to_list() == [datetime(2025, 12, 27, 0, 5)]
    assert trading.height == 5
    assert trading["settlementdate"].unique().to_list() == [datetime(2024, 3, 3, 13, 35)]


def _reorder_price_columns(data: bytes) -> bytes:
    """The same DISPATCH,PRICE,5 rows with columns in another order (as AEMO's two v5 layouts)."""
    out = []
    order: list[int] | None = None
    for line in data.split(b"\r\n"):
        if line.startswith(b"I,DISPATCH,PRICE,5,"):
            fields = line.split(b",")
            order = [0, 1, 2, 3, *reversed(range(4, len(fields)))]
            line = b",".join(fields[i] for i in order)
        elif line.startswith(b"D,DISPATCH,PRICE,5,") and order is not None:
            fields = line.split(b",")  # no quoted commas in these rows
            line = b",".join(fields[i] for i in order)
        out.append(line)
    return b"\r\n".join(out)


def test_columns_are_matched_by_name_never_position(samples: SampleSet) -> None:
    data = samples.path(DISPATCHIS).read_bytes()
    original = views.dispatch_price(read_report(data))
    reordered_report = read_report(_reorder_price_columns(data))
    key = TableKey("DISPATCH", "PRICE", 5)
    assert reordered_report.tables[key].columns[0] == "MII_STATUS"
    assert_frame_equal(views.dispatch_price(reordered_report), original)


def _with_intervention_run(data: bytes) -> bytes:
    """Add an intervention run (INTERVENTION=1) beside each real pricing-run price row, with the
    price doubled so the two runs can be told apart (a test edit, not AEMO data)."""
    out = []
    for line in data.split(b"\r\n"):
        out.append(line)
        if line.startswith(b"D,DISPATCH,PRICE,5,"):
            fields = line.split(b",")
            fields[8] = b"1"  # INTERVENTION (after D,DISPATCH,PRICE,5,SETTLEMENTDATE,RUNNO,...)
            fields[9] = str(float(fields[9]) * 2).encode()  # RRP
            out.append(b",".join(fields))
    footer = out[-2]
    assert footer.startswith(b'C,"END OF REPORT",')
    out[-2] = b'C,"END OF REPORT",' + str(len(out) - 1).encode()
    return b"\r\n".join(out)


def test_both_runs_are_kept_and_prices_use_intervention_zero(samples: SampleSet) -> None:
    report = read_report(_with_intervention_run(samples.path(DISPATCHIS).read_bytes()))
    assert report.warnings == []
    prices = views.dispatch_price(report)
    assert prices.height == 10
    assert prices.select(views.DISPATCH_PRICE.key).is_unique().all()
    pricing = views.pricing_run(prices)
    assert pricing["intervention"].unique().to_list() == [0]
    assert dict(zip(pricing["regionid"], pricing["rrp"], strict=True))["QLD1"] == 34.75
    intervention = prices.filter(pl.col("intervention") == 1)
    assert dict(zip(intervention["regionid"], intervention["rrp"], strict=True))["QLD1"] == 69.5


@pytest.mark.parametrize(
    "name",
    [
        names.ROOFTOP_MONTH,
        names.ROOFTOP_SATELLITE,
    ],
)
def test_rooftop_subregions_are_never_summed_into_region_totals(
    samples: SampleSet, name: str
) -> None:
    rooftop = views.rooftop_actual(read_report(samples.path(name)))
    assert set(rooftop.filter("is_subregion")["regionid"].unique()) == {
        "QLDC",
        "QLDN",
        "QLDS",
        "TASN",
        "TASS",
    }
    regions = rooftop.filter(~pl.col("is_subregion"))
    assert set(regions["regionid"].unique()) == set(views.NEM_REGIONS)
    # the sub-regions re-count their region's panels: summing everything double counts QLD/TAS
    parts = (
        rooftop.filter("is_subregion")
        .group_by("interval_datetime", "type", "parent_regionid")
        .agg(pl.col("power").sum().alias("parts"))
        .join(
            regions.select("interval_datetime", "type", "parent_regionid", "power"),
            on=["interval_datetime", "type", "parent_regionid"],
        )
        .drop_nulls("power")
    )
    assert parts.height > 0
    # sub-regions add up to their region (to within estimation noise) ...
    assert parts["parts"].sum() == pytest.approx(parts["power"].sum(), rel=0.02)
    # ... so a total over every REGIONID would count Queensland and Tasmania twice
    everything = rooftop.group_by("type").agg(pl.col("power").sum()).sort("type")
    proper = regions.group_by("type").agg(pl.col("power").sum()).sort("type")
    assert (everything["power"] > proper["power"] * 1.05).all() or proper["power"].sum() == 0


def test_five_minute_settlement_start(samples: SampleSet) -> None:
    assert views.trading_interval_minutes(datetime(2021, 10, 1, 0, 0)) == 30
    assert views.trading_interval_minutes(datetime(2021, 10, 1, 0, 5)) == 5
    recent = views.trading_price(read_report(samples.path(TRADINGIS)))
    assert recent.select(views.trading_interval_minutes_expr())[
        "interval_minutes"
    ].unique().to_list() == [5]
    old = read_report(samples.path(names.DVD_TRADINGINTERCONNECT)).table(
        "TRADING", "INTERCONNECTORRES"
    )
    steps = old["SETTLEMENTDATE"].unique().sort().diff().drop_nulls().unique().to_list()
    assert [s.total_seconds() for s in steps] == [1800.0]
    first = old["SETTLEMENTDATE"].min()
    assert isinstance(first, datetime)
    assert views.trading_interval_minutes(first) == 30


def test_timestamps_are_naive_nem_time_interval_ending(samples: SampleSet) -> None:
    prices = views.dispatch_price(read_report(samples.path(DISPATCHIS)))
    assert prices.schema["settlementdate"] == pl.Datetime("us", time_zone=None)
    # the file was created at 00:00:21 NEM time and carries the interval ending 00:05
    report = read_report(samples.path(DISPATCHIS))
    assert report.header is not None and report.header.created == datetime(2025, 12, 27, 0, 0, 21)
    assert prices["settlementdate"].item(0) == datetime(2025, 12, 27, 0, 5)
