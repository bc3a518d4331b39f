"""The status report as data and as a page: trading-day ranges, gaps at each table's cadence
(trading prices half-hourly before 5-minute settlement) and the days a backfill of them covers,
the report's JSON (what the API serves), and a page that escapes whatever it shows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from nemstream_control import Job
from nemstream_market import NEM_TZ
from nemstream_status import (
    FEEDS,
    Colour,
    ConsumerCard,
    FeedCard,
    Gap,
    ServiceCard,
    StatusReport,
    StatusSettings,
    TableCard,
    day_range,
    render_page,
    table_feed,
)
from nemstream_status._store import DUPLICATES_SQL, PRESENT_SQL, TableGaps, segments
from nemstream_store import TABLES

DAY = date(2019, 5, 16)


def test_trading_days_are_intervals_ending_after_midnight_to_the_next_midnight() -> None:
    assert day_range(DAY, DAY) == (datetime(2019, 5, 16), datetime(2019, 5, 17))
    assert day_range(DAY, DAY + timedelta(days=6))[1] == datetime(2019, 5, 23)


def test_every_table_belongs_to_a_feed_and_its_sql_is_fixed() -> None:
    assert FEEDS == ("dispatch", "trading", "scada", "rooftop", "p5min", "predispatch")
    assert {t: table_feed(t) for t in TABLES} == {
        "prices5": "dispatch",
        "regionsum5": "dispatch",
        "interconnector5": "dispatch",
        "trading_prices": "trading",
        "scada5": "scada",
        "rooftop": "rooftop",
        "scada30": "scada",  # a 30-minute mean: filled by backfilling what it averages
        "prices30": "dispatch",
        "interconnector30": "dispatch",
        "emissions5": "scada",  # computed from SCADA: filled by backfilling SCADA
        "p5min": "p5min",
        "predispatch": "predispatch",
    }
    assert "interval_datetime > $start" in PRESENT_SQL["rooftop"]
    assert "GROUP BY interval_datetime, regionid, type" in DUPLICATES_SQL["rooftop"]


def test_cadence_of_each_table() -> None:
    start, end = datetime(2021, 9, 30, 12), datetime(2021, 10, 1, 12)
    switch = datetime(2021, 10, 1, 0, 0)
    assert segments("prices5", start, end) == [(start, end, 5)]
    assert segments("rooftop", start, end) == [(start, end, 30)]
    assert segments("p5min", start, end) == [(start, end, 5)]  # a run every 5 minutes
    assert segments("predispatch", start, end) == [(start, end, 30)]
    # trading prices: half-hourly up to the interval ending 00:00, 5-minute from 00:05
    assert segments("trading_prices", start, end) == [(start, switch, 30), (switch, end, 5)]
    assert segments("trading_prices", end, end + timedelta(days=1))[0][2] == 5
    assert segments("prices5", end, start) == []


def test_a_gap_covers_the_trading_days_its_intervals_start_on() -> None:
    found = TableGaps(
        "prices5", 5, 288, 4, [(datetime(2019, 5, 16, 23, 50), datetime(2019, 5, 17), 5)]
    )
    assert found.days(0) == (DAY, DAY)  # the interval ending 00:00 belongs to the day before
    half = TableGaps(
        "rooftop", 30, 48, 3, [(datetime(2019, 5, 16, 23), datetime(2019, 5, 17, 0, 30), 30)]
    )
    assert half.days(0) == (DAY, DAY + timedelta(days=1))


def _report(detail: str = "ok") -> StatusReport:
    at = datetime(2019, 5, 16, 3, 0, tzinfo=NEM_TZ)
    return StatusReport(
        generated_at=at + timedelta(minutes=3),
        start=datetime(2019, 5, 16, tzinfo=NEM_TZ),
        end=datetime(2019, 5, 17, tzinfo=NEM_TZ),
        colour=Colour.AMBER,
        feeds=[
            FeedCard(
                feed="dispatch",
                colour=Colour.GREEN,
                latest_interval=at,
                age_s=180.0,
                seen_on="bus",
                amber_after_s=600,
                red_after_s=1800,
                last_error=detail,
                last_error_at=at,
            )
        ],
        consumers=[ConsumerCard(durable="writer", colour=Colour.RED, exists=False)],
        services=[
            ServiceCard(
                name="writer",
                url="http://127.0.0.1:9110/readyz",
                colour=Colour.RED,
                state="unreachable",
            )
        ],
        tables=[
            TableCard(
                table="prices5",
                feed="dispatch",
                minutes=5,
                colour=Colour.AMBER,
                rows=160,
                latest_interval=at,
                expected=36,
                missing=4,
                gaps=[
                    Gap(
                        start=datetime(2019, 5, 16, 1, tzinfo=NEM_TZ),
                        end=datetime(2019, 5, 16, 1, 20, tzinfo=NEM_TZ),
                        intervals=4,
                        first_day=DAY,
                        last_day=DAY,
                    )
                ],
                gaps_total=3,
            )
        ],
        jobs=[
            Job(
                id="20190516T000000-backfill-00000000",
                kind="backfill",
                target="dispatch",
                detail=detail,
            )
        ],
        actions_enabled=True,
        refresh_s=15,
    )


def test_the_report_round_trips_as_json() -> None:
    report = _report()
    data = report.model_dump(mode="json")
    assert data["feeds"][0]["latest_interval"] == "2019-05-16T03:00:00+10:00"
    assert data["tables"][0]["gaps"][0]["first_day"] == "2019-05-16"
    assert data["colour"] == "amber" and data["jobs"][0]["state"] == "queued"
    assert StatusReport.model_validate_json(report.model_dump_json()) == report


def test_the_page_shows_the_cards_and_escapes_what_it_shows() -> None:
    hostile = '<script>alert("x")</script>'
    page = render_page(_report(hostile), DAY, DAY)
    assert hostile not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert 'class="card green"><h3>dispatch' in page
    assert 'data-feed="dispatch" data-start="2019-05-16" data-end="2019-05-16"' in page
    assert "and 2 more" in page  # three gaps, one listed
    assert '<meta http-equiv="refresh" content="15">' in page  # without the script
    assert '"start": "2019-05-16"' in page and "sessionStorage" in page
    assert "localStorage" not in page


def test_services_setting() -> None:
    assert StatusSettings().services["writer"] == "http://127.0.0.1:9110/readyz"
    assert set(StatusSettings().services) >= {f"fetch:{feed}" for feed in FEEDS}
    custom = StatusSettings(status_services="api=http://api:8000/readyz, ")
    assert custom.services == {"api": "http://api:8000/readyz"}
    with pytest.raises(ValidationError, match="not name=http"):
        StatusSettings(status_services="writer:9110")
