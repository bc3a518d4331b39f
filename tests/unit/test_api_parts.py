"""The API's parts without servers: ranges and their limits, null rows for missing intervals,
the interval pair, keyset cursors, region filtering of live events, key parsing, and that an
unexpected error reaches a client as one sentence, never a traceback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from nemstream_api import ApiSettings, Hub, create_app
from nemstream_api._live import Event, kind_of
from nemstream_api._params import Format, Limits, Step, Window, parse_moment, window
from nemstream_api._respond import after_cursor, encode_cursor, shaped, with_missing
from nemstream_control import ApiKeys
from nemstream_query import Policy, Query, QuerySettings, Resolution
from nemstream_runtime import Health

LIMITS = Limits(31, 366, 3660)
NEWEST = datetime(2026, 11, 30, 12, 0)


def _window(start: str | None, end: str | None, step: Step = Step.AUTO) -> Window:
    return window(start, end, step, policy=Policy(), limits=LIMITS, newest=NEWEST)


def test_a_range_defaults_to_the_day_before_the_newest_data() -> None:
    asked = _window(None, None)
    assert (asked.start, asked.end) == (NEWEST - timedelta(days=1), NEWEST)
    assert asked.resolution is Resolution.FIVE


def test_times_with_an_offset_become_nem_time_and_without_one_are_nem_time() -> None:
    assert parse_moment("start", "2026-11-30T02:00Z") == datetime(2026, 11, 30, 12, 0)
    assert parse_moment("start", "2026-11-30T12:00+10:00") == datetime(2026, 11, 30, 12, 0)
    assert parse_moment("start", "2026-11-30T12:00") == datetime(2026, 11, 30, 12, 0)
    assert parse_moment("start", "2026-11-30") == datetime(2026, 11, 30)


@pytest.mark.parametrize(
    ("start", "end", "step", "field"),
    [
        ("2026-11-30", "2026-11-29", Step.AUTO, "end"),
        ("2026-01-01", "2026-03-01", Step.FIVE, "end"),
        ("2016-01-01", "2026-03-01", Step.THIRTY, "end"),
        ("soon", None, Step.AUTO, "start"),
    ],
)
def test_bad_ranges_are_422_naming_the_parameter(
    start: str, end: str | None, step: Step, field: str
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        _window(start, end, step)
    assert caught.value.errors()[0]["loc"] == ("query", field)


def test_auto_reads_long_ranges_daily_and_limits_scale_for_units() -> None:
    assert _window("2025-01-01", "2026-01-01").resolution is Resolution.DAILY
    assert _window("2026-11-01", "2026-11-20").resolution is Resolution.THIRTY
    with pytest.raises(RequestValidationError):
        window("2026-01-01", "2026-01-20", Step.FIVE, policy=Policy(), limits=LIMITS,
               newest=NEWEST, scale=0.25)  # fmt: skip


def test_missing_intervals_become_null_rows_for_every_key() -> None:
    asked = _window("2026-11-30T00:00", "2026-11-30T00:20", Step.FIVE)
    frame = pl.DataFrame(
        {
            "interval": [datetime(2026, 11, 30, 0, 5), datetime(2026, 11, 30, 0, 15)],
            "region": ["SA1", "SA1"],
            "rrp": [10.0, 30.0],
            "minutes": [5, 5],
            "intervals": [1, 1],
            "complete": [True, True],
        }
    )
    regions = pl.DataFrame({"region": ["NSW1", "SA1"]})
    out = with_missing(frame, asked, ("region",), regions)
    assert out.height == 8
    sa = out.filter(pl.col("region") == "SA1")
    assert sa["rrp"].to_list() == [10.0, None, 30.0, None]
    assert sa["intervals"].to_list() == [1, 0, 1, 0]
    assert out.filter(pl.col("region") == "NSW1")["complete"].to_list() == [False] * 4


def test_rows_carry_their_interval_start_and_end_in_nem_time() -> None:
    frame = pl.DataFrame(
        {"interval": [datetime(2026, 11, 30, 0, 30)], "minutes": [30], "rrp": [float("nan")]}
    )
    text = shaped(frame, Format.JSON).to_dicts()[0]
    assert text == {
        "interval_start": "2026-11-30T00:00:00+10:00",
        "interval_end": "2026-11-30T00:30:00+10:00",
        "minutes": 30,
        "rrp": None,
    }
    typed = shaped(frame, Format.PARQUET)
    assert typed.schema["interval_start"] == pl.Datetime("us", "Australia/Brisbane")


def _request(query: str) -> Request:
    return Request({"type": "http", "path": "/v1/prices", "query_string": query.encode(),
                    "headers": []})  # fmt: skip


def test_a_cursor_continues_after_its_row_and_belongs_to_its_query() -> None:
    frame = pl.DataFrame(
        {
            "interval": [datetime(2026, 1, 1, 0, 5)] * 2 + [datetime(2026, 1, 1, 0, 10)] * 2,
            "region": ["NSW1", "SA1", "NSW1", "SA1"],
        }
    )
    request = _request("region=NEM")
    cursor = encode_cursor(request, frame.row(1, named=True), ("region",))
    rest = after_cursor(frame, _request("region=NEM&cursor=x"), cursor, ("region",))
    assert rest.rows() == frame.slice(2).rows()
    with pytest.raises(RequestValidationError):
        after_cursor(frame, _request("region=SA1"), cursor, ("region",))


def test_live_events_keep_only_the_regions_asked_for() -> None:
    body = {
        "interval": "2026-11-30T12:00:00+10:00",
        "rows": [{"regionid": "SA1", "rrp": 1.0}, {"regionid": "NSW1", "rrp": 2.0}],
    }
    event = Event.of(7, "nem.dispatch.price.v1", json.dumps(body).encode())
    assert event.kind == "prices"
    kept = json.loads(event.payload(frozenset({"SA1"})) or "{}")
    assert kept["sequence"] == 7 and kept["body"]["rows"] == [{"regionid": "SA1", "rrp": 1.0}]
    assert event.payload(frozenset({"QLD1"})) is None
    assert kind_of("nem.dispatch.price.30min.v1") == "aggregates"


def test_keys_are_named_and_short_ones_refused() -> None:
    keys = ApiKeys.parse("ops:0123456789abcdef,0123456789abcdefXYZ")
    assert keys.from_headers("Bearer 0123456789abcdef", None) == "ops"
    assert keys.from_headers(None, "0123456789abcdefXYZ") is not None
    assert keys.from_headers("Bearer nope", None) is None
    with pytest.raises(ValueError, match="shorter"):
        ApiKeys.parse("ops:short")


async def test_an_unexpected_error_is_one_sentence_never_a_traceback(tmp_path: Path) -> None:
    store = Query(QuerySettings(data_dir=tmp_path))
    bus: Any = SimpleNamespace(settings=SimpleNamespace(stream_name="NEM"))
    app = create_app(ApiSettings(data_dir=tmp_path), store, Hub(bus), Health())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get("/boom")
            assert response.status_code == 500
            assert "incident" in response.json()["detail"]
            assert "secret" not in response.text and "Traceback" not in response.text
            schema = (await client.get("/openapi.json")).json()
            assert schema["info"]["title"] == "nemstream API"
            assert "31 days" in schema["info"]["description"]  # the limits are documented
    finally:
        store.close()


async def test_cors_answers_only_the_origins_configured(tmp_path: Path) -> None:
    store = Query(QuerySettings(data_dir=tmp_path))
    bus: Any = SimpleNamespace(settings=SimpleNamespace(stream_name="NEM"))
    settings = ApiSettings(data_dir=tmp_path, api_cors_origins="https://grid.example")
    app = create_app(settings, store, Hub(bus), Health())
    preflight = {"Access-Control-Request-Method": "GET"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            allowed = await client.options(
                "/v1/prices", headers={**preflight, "Origin": "https://grid.example"}
            )
            assert allowed.headers["access-control-allow-origin"] == "https://grid.example"
            other = await client.options(
                "/v1/prices", headers={**preflight, "Origin": "https://elsewhere.example"}
            )
            assert "access-control-allow-origin" not in other.headers
    finally:
        store.close()


async def test_an_id_ahead_of_a_recreated_stream_is_told_then_goes_live() -> None:
    bus: Any = SimpleNamespace(settings=SimpleNamespace(stream_name="NEM"))
    hub = Hub(bus)
    hub.last_sequence = 5
    async with hub.connect(None, None, "sse") as client:
        events = hub.events(client, 900, heartbeat_s=0.05)
        first = await anext(events)
        assert first is not None and first.kind == "reset"
        assert first.body["last_id"] == 900 and first.body["stream_sequence"] == 5
        assert await anext(events) is None  # a heartbeat: nothing new, live from sequence 5
        await events.aclose()
