"""The parquet store with real events: unique keys, duplicates dropped, corrections applied,
compaction, crash recovery, the writer lock, the daily rollup."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nemstream_contracts import DispatchPrice, DispatchPriceRow
from nemstream_fetcher import feed_of_report, report_events
from nemstream_mms import iter_reports
from nemstream_store import (
    CLOSED_LEVEL,
    DAILY,
    TABLES,
    Store,
    StoreLocked,
    TableReader,
    Unit,
    rebuild_daily,
    stale_months,
    unit_from_message,
)
from nemstream_testing import SampleSet, names

FILES = [
    names.DISPATCHIS_2025,
    names.DISPATCHIS_2020,
    names.TRADINGIS,
    names.SCADA,
    names.ROOFTOP_MEASUREMENT,
    names.ROOFTOP_SATELLITE,
]
MONTHLY = names.PRICE_ARCHIVE
SCADA = names.SCADA


def units_of(samples: SampleSet, files: list[str]) -> list[Unit]:
    out = []
    for name in files:  # every real event of the files, as the fetcher publishes them
        for report in iter_reports(samples.path(name)):
            feed = feed_of_report(report)
            assert feed is not None
            out += [unit_from_message(e.subject, e.message) for e in report_events(feed, report)]
    return out


def read(root: Path, table: str) -> pl.DataFrame:
    files = TableReader(root).files(table)
    return pl.read_parquet(files).sort(list(TABLES[table].key)) if files else pl.DataFrame()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "store")
    yield opened
    opened.close()


def test_real_events_become_rows_with_unique_keys(samples: SampleSet, store: Store) -> None:
    result = store.write(units_of(samples, FILES))
    assert (result.stored, result.duplicates, result.corrected) == (10, 0, 0)
    prices = read(store.root, "prices5")
    assert prices.height == 10  # 5 regions x 2 intervals
    assert prices.filter(pl.col("regionid") == "VIC1")["rrp"].to_list()[-1] == -2.69976
    scada = read(store.root, "scada5")
    assert scada.height == 390 and scada.filter(pl.col("scadavalue") < 0).height == 8
    rooftop = read(store.root, "rooftop")
    assert rooftop.group_by("type").len().sort("type").rows() == [
        ("MEASUREMENT", 10),
        ("SATELLITE", 10),
    ]
    regions = read(store.root, "regionsum5")
    assert {"uigf", "ss_solar_clearedmw"} <= set(regions.columns)
    flows = read(store.root, "interconnector5")
    assert {"exportlimit", "importlimit"} <= set(flows.columns)
    for table in (
        "prices5",
        "scada5",
        "rooftop",
        "regionsum5",
        "interconnector5",
        "trading_prices",
    ):
        frame = read(store.root, table)
        assert frame.select(TABLES[table].key).is_duplicated().sum() == 0, table
    # hive partitioning by month of the interval's start
    months = {Path(f).parent.name for f in TableReader(store.root).files("prices5")}
    assert months == {"month=2020-01", "month=2025-12"}


def test_replays_duplicates_and_backfills_add_no_rows(samples: SampleSet, store: Store) -> None:
    units = units_of(samples, FILES)
    store.write(units)
    parts = len(TableReader(store.root).files("prices5"))
    again = store.write(units)  # a replay, or the same events redelivered
    assert (again.stored, again.duplicates, again.parts) == (0, 10, 0)
    assert len(TableReader(store.root).files("prices5")) == parts
    # the same interval from another file (a backfill from an archive) with the same values
    monthly = units_of(samples, [MONTHLY])
    store.write(monthly)
    twice = store.write(list(reversed(monthly)))  # out of order, all duplicates
    assert twice.duplicates == len(monthly) and twice.stored == 0
    prices = read(store.root, "prices5")
    assert prices.select(TABLES["prices5"].key).is_duplicated().sum() == 0


def test_a_corrected_value_replaces_the_earlier_one(samples: SampleSet, store: Store) -> None:
    (first,) = [u for u in units_of(samples, [names.DISPATCHIS_2025]) if u.table.name == "prices5"]
    store.write([first])
    before = read(store.root, "prices5")
    rows = before.drop("settlementdate", "source_file").with_columns(
        pl.when(pl.col("regionid") == "SA1").then(999.0).otherwise(pl.col("rrp")).alias("rrp")
    )
    corrected = DispatchPrice(
        feed="dispatch",
        source_file="PUBLIC_DISPATCHIS_202512270005_0000000495867999.zip",
        interval="2025-12-27T00:05:00+10:00",
        rows=[DispatchPriceRow(**r) for r in rows.to_dicts()],
    )
    result = store.write([unit_from_message("nem.dispatch.price.v1", corrected)])
    assert (result.stored, result.corrected) == (0, 1)
    after = read(store.root, "prices5")
    assert after.height == 5
    assert after.filter(pl.col("regionid") == "SA1")["rrp"].item() == 999.0
    assert after.filter(pl.col("regionid") == "NSW1")["rrp"].item() == 33.51273
    assert set(after["source_file"]) == {corrected.source_file}


def test_compaction_merges_small_parts_invisibly(samples: SampleSet, store: Store) -> None:
    monthly = units_of(samples, [MONTHLY])
    for start in range(0, len(monthly), 100):  # many small writes, as micro-batches make
        store.write(monthly[start : start + 100])
    reader = TableReader(store.root)
    before = read(store.root, "prices5")
    small = len(reader.files("prices5"))
    assert small >= 14
    assert store.compact("prices5", min_parts=12, current_month="2026-04") == 1  # month over
    assert len(reader.files("prices5")) == 1
    assert_frame_equal(read(store.root, "prices5"), before)
    # replaced parts stay for readers of the old manifest, then go
    on_disk = list((store.root / "prices5").rglob("*.parquet"))
    assert len(on_disk) == small + 1
    assert store.collect_garbage(now=time.time() + 3600) == small
    assert len(list((store.root / "prices5").rglob("*.parquet"))) == 1
    # units now point at the merged part: a correction after compaction still works
    again = store.write(monthly[:5])
    assert again.duplicates == 5


def test_recovery_after_a_crash(samples: SampleSet, tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.write(units_of(samples, FILES))
    store.close()
    # a crash mid-write leaves a temporary file and a part the manifest never listed
    month = root / "prices5" / "month=2025-12"
    (month / ".part-x.parquet.tmp").write_bytes(b"half a file")
    orphan = month / "part-orphan.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(orphan)
    old = time.time() - 3600
    import os

    os.utime(orphan, (old, old))
    (root / "_index.sqlite").unlink()  # and even the index is lost
    for extra in root.glob("_index.sqlite-*"):
        extra.unlink()
    reopened = Store(root)
    reindexed = reopened.recover()
    assert not (month / ".part-x.parquet.tmp").exists() and not orphan.exists()
    assert reindexed["prices5"] == 2 and reindexed["scada5"] == 1
    assert reopened.write(units_of(samples, FILES)).duplicates == 10  # index rebuilt right
    reopened.close()


def test_one_writer_per_store(tmp_path: Path) -> None:
    first = Store(tmp_path / "store")
    with pytest.raises(StoreLocked):
        Store(tmp_path / "store")
    first.close()
    Store(tmp_path / "store").close()


def test_daily_rollup_energy_and_revenue(samples: SampleSet, store: Store) -> None:
    store.write(units_of(samples, [names.SCADA]))
    scada = read(store.root, "scada5")
    regions = pl.DataFrame({"duid": scada["duid"], "region": ["NSW1"] * scada.height})
    assert rebuild_daily(store, "2021-09", regions) == 390
    daily = pl.read_parquet(TableReader(store.root).files(DAILY))
    assert daily["date"].unique().to_list() == [date(2021, 9, 2)]
    # energy is MW x hours (5 minutes), never MW alone
    expected = scada.select(pl.col("scadavalue").sum() * 5 / 60).item()
    assert daily["mwh"].sum() == pytest.approx(expected)
    assert daily["priced"].sum() == 0  # no 5-minute prices stored for that interval


def test_compaction_merges_by_level_and_closes_months(samples: SampleSet, store: Store) -> None:
    monthly = units_of(samples, [MONTHLY])
    for start in range(0, 36 * 10, 10):  # 36 small parts in March 2026
        store.write(monthly[start : start + 10])
    assert store.compact("prices5", min_parts=12, current_month="2026-03") == 3
    levels = sorted(p.level for p in store.manifest("prices5").parts)
    assert levels == [1, 1, 1]  # three merges of twelve, none of them re-reading the others
    assert store.compact("prices5", min_parts=3, current_month="2026-03") == 1
    assert [p.level for p in store.manifest("prices5").parts] == [2]
    store.write(monthly[360:370])
    # once the month is over it becomes a single part, whatever the levels
    assert store.compact("prices5", min_parts=12, current_month="2026-04") == 1
    (part,) = store.manifest("prices5").parts
    assert part.level == CLOSED_LEVEL
    expected = pl.concat([u.frame for u in monthly[:370]]).sort(list(TABLES["prices5"].key))
    assert_frame_equal(read(store.root, "prices5"), expected)  # every row, once


def test_daily_rollup_of_changed_days_equals_a_full_rebuild(
    samples: SampleSet, store: Store
) -> None:
    result = store.write(units_of(samples, [MONTHLY, SCADA]))
    assert ("prices5", date(2026, 3, 30)) in result.days
    assert stale_months(store) == ["2021-09"]
    regions = pl.DataFrame({"duid": read(store.root, "scada5")["duid"], "region": "NSW1"})
    rebuild_daily(store, "2021-09", regions)
    assert stale_months(store) == []
    full = pl.read_parquet(TableReader(store.root).files(DAILY))
    # a second SCADA interval the next day (the real values re-stamped) changes one day only
    (report,) = iter_reports(samples.path(SCADA))
    (event,) = report_events("scada", report)
    moved = event.message.model_copy(
        update={"interval": event.message.interval + timedelta(days=1)}
    )
    result = store.write([unit_from_message(event.subject, moved)])
    assert {d for _, d in result.days} == {date(2021, 9, 3)}
    assert stale_months(store) == ["2021-09"]
    assert rebuild_daily(store, "2021-09", regions, {date(2021, 9, 3)}) == full.height
    partial = pl.read_parquet(TableReader(store.root).files(DAILY)).sort("date", "duid")
    rebuild_daily(store, "2021-09", regions)
    assert_frame_equal(
        partial, pl.read_parquet(TableReader(store.root).files(DAILY)).sort("date", "duid")
    )
    assert_frame_equal(
        partial.filter(pl.col("date") == date(2021, 9, 2)), full.sort("date", "duid")
    )


def test_recovery_survives_a_file_where_a_table_folder_should_be(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    (root / "trading_prices").write_text("not a folder")  # a full or broken disk's leftovers
    store = Store(root)
    try:
        assert store.recover() == {}  # logged; writes to that table fail (and alarm) until fixed
    finally:
        store.close()


def test_a_column_added_to_a_contract_needs_no_migration(
    samples: SampleSet, store: Store, tmp_path: Path
) -> None:
    """Parts written before a column existed read as null in it: writes, corrections,
    compaction, recovery and the query layer all go on over a mix of old and new parts."""
    from nemstream_query import Query, QuerySettings

    month = units_of(samples, [MONTHLY])  # real March 2026 prices, with apcflag etc.
    old_schema = [
        c for c in TABLES["prices5"].schema if c not in ("apcflag", "marketsuspendedflag")
    ]
    # the first days as an older writer stored them: a part without the two columns
    first = pl.concat([u.frame for u in month[:600]]).select(old_schema)
    store.add_part("prices5", first, level=0)
    assert store.write(month[600:]).stored == len(month) - 600  # new parts, full schema
    corrected = month[10].frame.with_columns(pl.col("rrp") + 1)
    unit = Unit(month[10].table, month[10].name, month[10].interval, corrected, "changed")
    assert store.write([unit]).corrected == 1  # a correction inside the old part
    assert store.compact("prices5", min_parts=2, current_month="2026-04") == 1
    rows = read(store.root, "prices5")
    assert rows.height == 2880 and rows.select(TABLES["prices5"].key).is_duplicated().sum() == 0
    assert rows["apcflag"].null_count() == 599 * 2  # the old part's rows, less the corrected one
    store.close()
    reopened = Store(tmp_path / "store")
    reopened.recover()
    reopened.close()
    query = Query(QuerySettings(data_dir=tmp_path, query_cache_size=0))
    try:
        prices = query.prices(datetime(2026, 3, 1), datetime(2026, 3, 2), resolution=None).frame
        assert prices.height > 0
        assert not query.price_now().is_empty()
    finally:
        query.close()
