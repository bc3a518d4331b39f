"""The forecast feeds on the real runs: P5MIN (a run every 5 minutes, the next hour) and
pre-dispatch (every 30 minutes, to the end of the next trading day). One message per run, its
interval the run's time; every row of the file's table, value for value, read independently
here with the csv module."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from nemstream_contracts import P5minPrice, PredispatchPrice
from nemstream_fetcher import feed_of_report, read_events, report_events
from nemstream_market import NEM_TZ, predispatch_run_time
from nemstream_mms import MmsError, iter_reports, read_report
from nemstream_store import TABLES
from nemstream_store._tables import message_frame
from nemstream_testing import SampleSet, names
from nemstream_testing.raw import aemo_time, mms_rows


def _runs(samples: SampleSet) -> list[Path]:
    return sorted(samples.folder(names.P5MIN_RUNS).glob("PUBLIC_P5MIN_*.zip"))


def test_each_p5min_run_is_one_message_with_every_row_of_its_file(samples: SampleSet) -> None:
    runs = _runs(samples)
    assert len(runs) == 12
    ids = set()
    for path in runs:
        (report,) = iter_reports(path)
        assert feed_of_report(report) == "p5min"
        (event,) = report_events("p5min", report)
        message = event.message
        assert isinstance(message, P5minPrice)
        raw = mms_rows(path, "P5MIN,REGIONSOLUTION")
        (run,) = {aemo_time(r["RUN_DATETIME"]) for r in raw}
        assert message.interval == run.replace(tzinfo=NEM_TZ)
        assert event.subject == "nem.p5min.price.v1"
        assert len(message.rows) == len(raw) == 60  # 5 regions x 12 intervals
        got = {
            (r.interval_datetime.replace(tzinfo=None), r.regionid, r.intervention): (
                r.rrp,
                r.totaldemand,
            )
            for r in message.rows
        }
        want = {
            (aemo_time(r["INTERVAL_DATETIME"]), r["REGIONID"], int(r["INTERVENTION"])): (
                float(r["RRP"]),
                float(r["TOTALDEMAND"]),
            )
            for r in raw
        }
        assert got == want
        # the next hour: the run's own interval first, then every 5 minutes to 55 minutes ahead
        assert sorted({k[0] for k in got}) == [run + timedelta(minutes=5 * i) for i in range(12)]
        ids.add(event.msg_id)
    assert len(ids) == 12


def test_a_predispatch_run_is_one_message_its_time_read_from_predispatchseqno(
    samples: SampleSet,
) -> None:
    path = samples.path(names.PREDISPATCH_RUN)
    (report,) = iter_reports(path)
    (event,) = report_events("predispatch", report)
    message = event.message
    assert isinstance(message, PredispatchPrice)
    raw = mms_rows(path, "PREDISPATCH,REGION_PRICES")
    assert {r["PREDISPATCHSEQNO"] for r in raw} == {"2019043040"}
    assert message.interval == datetime(2019, 5, 1, 0, 0, tzinfo=NEM_TZ)
    assert len(message.rows) == len(raw) == 570  # both runs: 57 half hours x 5 regions x 2
    got = {
        (r.interval_datetime.replace(tzinfo=None), r.regionid, r.intervention): r.rrp
        for r in message.rows
    }
    want = {
        (aemo_time(r["DATETIME"]), r["REGIONID"], int(r["INTERVENTION"])): float(r["RRP"])
        for r in raw
    }
    assert got == want
    halves = sorted({k[0] for k in got})
    assert halves[0] == datetime(2019, 5, 1, 0, 0)  # the run's own half hour first
    assert halves[-1] == datetime(2019, 5, 2, 4, 0)  # the end of the next trading day
    assert len(halves) == 57


def test_predispatch_run_time_from_its_sequence_number() -> None:
    assert predispatch_run_time("2019043001") == datetime(2019, 4, 30, 4, 30)
    assert predispatch_run_time("2019043040") == datetime(2019, 5, 1, 0, 0)
    assert predispatch_run_time("2019043048") == datetime(2019, 5, 1, 4, 0)
    for bad in ("2019043000", "2019043049", "20190430", "x019043040"):
        with pytest.raises(ValueError, match="PREDISPATCHSEQNO"):
            predispatch_run_time(bad)


def test_a_bad_sequence_number_rejects_the_run_with_its_reason(samples: SampleSet) -> None:
    path = samples.path(names.PREDISPATCH_RUN)
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.namelist()
        text = archive.read(member).decode()
    broken = text.replace(
        "D,PREDISPATCH,REGION_PRICES,1,2019043040,", "D,PREDISPATCH,REGION_PRICES,1,2019043099,", 1
    )
    report = read_report(broken.encode(), name=member)
    result = read_events("predispatch", report)
    assert not result.events
    (rejected,) = result.rejected
    assert "period 99 is not 1-48" in rejected.reason
    with pytest.raises(MmsError, match="PREDISPATCHSEQNO"):
        result.require_events(member)


def test_a_forecast_row_before_its_run_breaks_the_contract(samples: SampleSet) -> None:
    (report,) = iter_reports(samples.path(names.P5MIN_FIRST_RUN))
    (event,) = report_events("p5min", report)
    body = event.message.model_dump()
    body["interval"] = body["interval"] + timedelta(minutes=5)  # the run's first row is now earlier
    with pytest.raises(ValidationError, match="before the run"):
        P5minPrice.model_validate(body)


@pytest.mark.parametrize(
    ("name", "table"), [(names.P5MIN_FIRST_RUN, "p5min"), (names.PREDISPATCH_RUN, "predispatch")]
)
def test_a_run_fills_its_table_keyed_by_run_interval_region(
    samples: SampleSet, name: str, table: str
) -> None:
    (report,) = iter_reports(samples.path(name))
    (event,) = report_events(table, report)
    spec = TABLES[table]
    frame = message_frame(spec, event.message)
    assert isinstance(event.message, P5minPrice | PredispatchPrice)
    assert frame.height == len(event.message.rows)
    assert not frame.select(spec.key).is_duplicated().any()
    assert frame["run_datetime"].unique().to_list() == [event.interval]
    assert frame["interval_datetime"].dtype == pl.Datetime("us")  # naive NEM time, like all tables
    assert frame["interval_datetime"].min() == event.interval
