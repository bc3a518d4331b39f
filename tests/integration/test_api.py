"""The HTTP API as a real process over a store built from real samples through the bus: every
endpoint and format equals the query layer (and the source files), missing intervals are null
rows, bad parameters are 422 with a message, ETags give 304, the newest interval comes from the
bus, SSE and WebSocket clients resume after a dropped connection with no gap and no repeat, a
slow client is dropped alone, keys and rate limits are enforced, and schemathesis finds no 5xx
and no response that breaks the OpenAPI schema."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
import polars as pl
import pytest
import websockets

from nemstream_bus import BusSettings, connect
from nemstream_contracts import DISPATCH_PRICE, SCADA_UNIT, DispatchPrice, UnitScada
from nemstream_fetcher import report_events
from nemstream_mms import iter_reports
from nemstream_query import Query, QuerySettings, Resolution
from nemstream_testing import SampleSet, names, wait_until
from tests.e2e.stack_support import Stack, loaded_stack, run_async
from tests.integration.api_support import TOKEN, Received, api_process, log_lines, read_sse

pytestmark = pytest.mark.slow

DAY_START = datetime(2019, 5, 16, 0, 0)
"""The real history day in the samples (DispatchIS, every 5 minutes)."""
UNLIMITED = {
    "NEMSTREAM_API_RATE_LIMIT": "1000000/minute",
    "NEMSTREAM_API_STREAM_LIMIT": "10000/minute",
}


@pytest.fixture(scope="module")
def stack(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nats-server, writer and aggregator with the real samples replayed into the store."""
    with loaded_stack(samples, tmp_path_factory.mktemp("api-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[str]:
    """The API over the stack, without practical rate limits."""
    with api_process(stack, **UNLIMITED) as url:
        yield url


@pytest.fixture(scope="module")
def store(stack: Stack) -> Iterator[Query]:
    """The query layer over the same store (what the API must equal)."""
    query = Query(QuerySettings(data_dir=stack.data, query_cache_size=0))
    try:
        yield query
    finally:
        query.close()


def pages(url: str, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every row of a JSON answer, following `next`; and how many pages it took."""
    rows: list[dict[str, Any]] = []
    count = 0
    cursor = None
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{url}{path}", params=asked, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        count += 1
        cursor = body["next"]
        if cursor is None:
            return rows, count


def nem(text: str) -> datetime:
    """An API timestamp as the store's naive NEM time."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(hours=10), text
    return moment.replace(tzinfo=None)


# --- history ----------------------------------------------------------------------------------


def test_prices_equal_the_query_layer_and_the_source_files(
    api: str, store: Query, samples: SampleSet
) -> None:
    start, end = DAY_START, DAY_START + timedelta(hours=6)
    params = {"start": start.isoformat(), "end": end.isoformat(), "resolution": "5min"}
    rows, _ = pages(api, "/v1/prices", params)
    expected = store.prices(start, end, resolution=Resolution.FIVE).frame
    assert len(rows) == 72 * 5  # every region at every interval, missing or not
    got = {(nem(r["interval_end"]), r["region"]): r["rrp"] for r in rows}
    for row in expected.iter_rows(named=True):
        assert got[(row["interval"], row["region"])] == pytest.approx(row["rrp"], abs=1e-9)
    for row in rows:
        assert nem(row["interval_end"]) - nem(row["interval_start"]) == timedelta(minutes=5)
    # the source file of one interval: DISPATCH,PRICE of the pricing run
    folder = samples.folder(names.HISTORY_DAY)
    source = sorted(p for p in folder.iterdir() if "201905160305" in p.name)[0]
    prices = [
        row
        for report in iter_reports(source)
        for event in report_events("dispatch", report)
        if event.subject == DISPATCH_PRICE
        for row in event.message.model_dump()["rows"]
        if row["intervention"] == 0
    ]
    assert prices
    for row in prices:
        assert got[(datetime(2019, 5, 16, 3, 5), row["regionid"])] == row["rrp"]


def _values(rows: list[dict[str, Any]], keys: tuple[str, ...], field: str) -> dict[Any, Any]:
    """An API answer's `field` by (interval end, keys), rows with data only."""
    return {
        (nem(r["interval_end"]), *(r[k] for k in keys)): r[field]
        for r in rows
        if r[field] is not None
    }


def _frame_values(frame: pl.DataFrame, keys: tuple[str, ...], field: str) -> dict[Any, Any]:
    return {
        (row["interval"], *(row[k] for k in keys)): row[field]
        for row in frame.iter_rows(named=True)
        if row[field] is not None
    }


def test_series_equal_the_query_layer(api: str, store: Query) -> None:
    day = (DAY_START, DAY_START + timedelta(hours=12))
    params = {"start": day[0].isoformat(), "end": day[1].isoformat()}
    cases: list[tuple[str, dict[str, str], pl.DataFrame, tuple[str, ...], str]] = [
        (
            "/v1/regionsum",
            {**params, "resolution": "30min"},
            store.regionsum(*day, resolution=Resolution.THIRTY).frame,
            ("region",),
            "demand_mw",
        ),
        (
            "/v1/interconnectors",
            params,
            store.interconnector_flows(*day).frame,
            ("interconnectorid",),
            "meteredmwflow",
        ),
        (
            "/v1/rooftop",
            {"start": "2019-12-01", "end": "2019-12-03"},
            store.rooftop_by_region(datetime(2019, 12, 1), datetime(2019, 12, 3)),
            ("regionid",),
            "mw",
        ),
        (
            "/v1/generation",
            {"start": "2021-09-02T12:00", "end": "2021-09-02T13:00"},
            store.generation_by_fuel(
                datetime(2021, 9, 2, 12), datetime(2021, 9, 2, 13)
            ).with_columns(pl.lit("NEM").alias("region")),
            ("region", "fuel"),
            "mw",
        ),
    ]
    for path, asked, frame, keys, field in cases:
        rows, _ = pages(api, path, asked)
        got = _values(rows, keys, field)
        want = _frame_values(frame, keys, field)
        assert want, f"{path}: the samples hold data for this range"
        assert got.keys() == want.keys(), path
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-9), (path, key)


@pytest.mark.parametrize(
    ("path", "params", "keys"),
    [
        ("/v1/prices", {"start": "2019-05-16T00:00", "end": "2019-05-17T00:00"}, ("region",)),
        (
            "/v1/prices",
            {"kind": "trading", "start": "2024-03-03T12:00", "end": "2024-03-03T14:00"},
            ("region",),
        ),
        (
            "/v1/prices",
            {"start": "2026-03-01", "end": "2026-04-01", "resolution": "day"},
            ("region",),
        ),
        (
            "/v1/generation",
            {"start": "2021-09-02T12:00", "end": "2021-09-02T13:00"},
            ("region", "fuel"),
        ),
        (
            "/v1/generation",
            {"by": "unit", "start": "2021-09-02T12:30", "end": "2021-09-02T13:00"},
            ("duid",),
        ),
        (
            "/v1/interconnectors",
            {"start": "2019-05-16T00:00", "end": "2019-05-16T12:00", "region": "SA1"},
            ("interconnectorid",),
        ),
        ("/v1/rooftop", {"start": "2019-12-01", "end": "2019-12-03"}, ("regionid",)),
        (
            "/v1/regionsum",
            {"start": "2019-05-16T00:00", "end": "2019-05-17T00:00", "resolution": "30min"},
            ("region",),
        ),
        (
            "/v1/revenue",
            {"start": "2021-09-02", "end": "2021-09-03"},
            ("station", "region", "fuel"),
        ),
        ("/v1/revenue", {"by": "unit", "start": "2021-09-02", "end": "2021-09-03"}, ("duid",)),
    ],
)
def test_json_csv_and_parquet_hold_the_same_rows(
    api: str, path: str, params: dict[str, str], keys: tuple[str, ...]
) -> None:
    rows, count = pages(api, path, {**params, "limit": 500})
    assert rows, "the samples hold data for this range"
    csv = httpx.get(f"{api}{path}", params={**params, "format": "csv"}, timeout=60)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    parquet = httpx.get(f"{api}{path}", params={**params, "format": "parquet"}, timeout=60)
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    from_json = pl.DataFrame(rows, infer_schema_length=None)
    from_csv = pl.read_csv(io.BytesIO(csv.content), infer_schema_length=None)
    from_parquet = pl.read_parquet(io.BytesIO(parquet.content))
    assert from_json.height == from_csv.height == from_parquet.height
    assert from_parquet.schema["interval_end"] == pl.Datetime("us", "Australia/Brisbane")
    order = ["interval_end", *keys]
    assert from_json["interval_end"].to_list() == from_csv["interval_end"].to_list()
    ends = from_parquet.sort(order)["interval_end"].dt.strftime("%Y-%m-%dT%H:%M:%S+10:00")
    assert ends.to_list() == from_json.sort(order)["interval_end"].to_list()
    assert from_json.select(order).is_duplicated().sum() == 0  # pages neither repeat nor skip
    if len(rows) > 500:
        assert count > 1


def test_missing_intervals_are_explicit_null_rows(api: str) -> None:
    # the history day's last interval ends at 23:55: the hour after it has no prices at all
    response = httpx.get(
        f"{api}/v1/prices",
        params={"start": "2019-05-16T23:00", "end": "2019-05-17T01:00", "region": "SA1"},
    )
    rows = response.json()["data"]
    assert len(rows) == 24
    after = [r for r in rows if nem(r["interval_end"]) > datetime(2019, 5, 16, 23, 55)]
    assert len(after) == 13
    assert all(r["rrp"] is None and r["intervals"] == 0 and not r["complete"] for r in after)
    assert all(r["rrp"] is not None for r in rows if r not in after)


def test_resampling_takes_means_of_mw_and_sums_of_energy(api: str, store: Query) -> None:
    params = {"start": "2019-05-16T00:00", "end": "2019-05-16T06:00", "region": "NSW1"}
    five = httpx.get(f"{api}/v1/regionsum", params={**params, "resolution": "5min"}).json()["data"]
    thirty = httpx.get(f"{api}/v1/regionsum", params={**params, "resolution": "30min"}).json()[
        "data"
    ]
    assert len(five) == 72 and len(thirty) == 12
    for half in thirty:
        inside = [
            r
            for r in five
            if nem(half["interval_start"]) < nem(r["interval_end"]) <= nem(half["interval_end"])
        ]
        assert len(inside) == 6 == half["intervals"]
        mean = sum(r["demand_mw"] for r in inside) / 6
        assert half["demand_mw"] == pytest.approx(mean)
        assert half["demand_mwh"] == pytest.approx(sum(r["demand_mwh"] for r in inside))
        assert half["demand_mwh"] == pytest.approx(mean / 2)  # MW × 0.5 h, never Σ MW
    prices = httpx.get(f"{api}/v1/prices", params={**params, "resolution": "30min"}).json()["data"]
    fives = store.prices(
        DAY_START, DAY_START + timedelta(hours=6), regions=["NSW1"], resolution=Resolution.FIVE
    ).frame
    first = fives.filter(pl.col("interval") <= DAY_START + timedelta(minutes=30))["rrp"].mean()
    assert prices[0]["rrp"] == pytest.approx(first)
    # volume-weighted: Σ price × demand / Σ demand over the half-hour's six intervals
    five_prices = httpx.get(f"{api}/v1/prices", params={**params, "resolution": "5min"}).json()
    demand = {r["interval_end"]: r["demand_mw"] for r in five}
    for half in prices:
        inside = [
            r
            for r in five_prices["data"]
            if nem(half["interval_start"]) < nem(r["interval_end"]) <= nem(half["interval_end"])
        ]
        weighted = sum(r["rrp"] * demand[r["interval_end"]] for r in inside) / sum(
            demand[r["interval_end"]] for r in inside
        )
        assert half["rrp_volume_weighted"] == pytest.approx(weighted)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/prices", {"region": "XX1"}, "region"),
        ("/v1/prices", {"start": "yesterday"}, "start"),
        ("/v1/prices", {"start": "2020-01-02", "end": "2020-01-01"}, "end"),
        ("/v1/prices", {"start": "2020-01-01", "end": "2021-01-01", "resolution": "5min"}, "end"),
        ("/v1/prices", {"resolution": "hourly"}, "resolution"),
        ("/v1/prices", {"format": "xml"}, "format"),
        ("/v1/prices", {"cursor": "not-a-cursor"}, "cursor"),
        ("/v1/generation", {"by": "station"}, "by"),
        ("/v1/rooftop", {"region": "MARS"}, "region"),
        ("/v1/rooftop", {"resolution": "5min"}, "resolution"),
        ("/v1/stream", {"kinds": "weather"}, "kinds"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    api: str, path: str, params: dict[str, str], field: str
) -> None:
    response = httpx.get(f"{api}{path}", params=params, timeout=10)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["msg"]
    assert field in detail[0]["loc"]
    assert "Traceback" not in response.text


def test_etag_gives_304_and_changes_with_the_data(api: str) -> None:
    params = {"start": "2019-05-16T00:00", "end": "2019-05-16T02:00"}
    first = httpx.get(f"{api}/v1/prices", params=params)
    tag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = httpx.get(f"{api}/v1/prices", params=params, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = httpx.get(f"{api}/v1/prices", params={**params, "region": "SA1"})
    assert other.headers["etag"] != tag
    # the same question again is answered from the answer cache, byte for byte
    assert httpx.get(f"{api}/v1/prices", params=params).content == first.content
    metrics = httpx.get(f"{api}/metrics").text
    assert 'nemstream_api_answers_total{cache="hit"}' in metrics


def test_units_and_one_unit_from_the_registry(api: str) -> None:
    found = httpx.get(f"{api}/v1/units", params={"search": "bayswater"}).json()
    assert {u["duid"] for u in found} >= {"BW01", "BW02", "BW03", "BW04"}
    one = httpx.get(f"{api}/v1/units/bw01").json()
    assert one["station_name"] == "Bayswater Power Station" and one["region"] == "NSW1"
    missing = httpx.get(f"{api}/v1/units/NOPE1")
    assert missing.status_code == 404 and "NOPE1" in missing.json()["detail"]


# --- live -------------------------------------------------------------------------------------


def _day_prices(samples: SampleSet) -> list[DispatchPrice]:
    """The history day's price messages, in order."""
    folder = samples.folder(names.HISTORY_DAY)
    out = []
    for path in sorted(folder.iterdir()):
        for report in iter_reports(path):
            for event in report_events("dispatch", report):
                if event.subject == DISPATCH_PRICE:
                    assert isinstance(event.message, DispatchPrice)
                    out.append(event.message)
    return out


class Publisher:
    """Publishes real price messages moved to a fresh day (new message ids)."""

    def __init__(self, stack: Stack, samples: SampleSet, tag: str, year: int) -> None:
        self.stack = stack
        self.messages = _day_prices(samples)
        self.tag = tag
        self.year = year
        self.next = 0

    def publish(self, count: int) -> None:
        """Publish the next `count` messages."""
        batch = self.messages[self.next : self.next + count]
        self.next += count

        async def send() -> None:
            bus = await connect(
                BusSettings(nats_url=self.stack.nats_url), name="api-test", wait_s=10
            )
            try:
                for message in batch:
                    moved = message.model_copy(
                        update={"interval": message.interval.replace(year=self.year)}
                    )
                    await bus.publish(
                        DISPATCH_PRICE, moved, msg_id=f"{self.tag}:{moved.interval:%Y%m%d%H%M}"
                    )
            finally:
                await bus.close()

        run_async(send())


async def _price_sequences(stack: Stack, after: int) -> list[int]:
    """Stream sequences of every price message after `after`, read from JetStream itself."""
    bus = await connect(BusSettings(nats_url=stack.nats_url), name="api-test-seq", wait_s=10)
    try:
        info = await bus.js.stream_info("NEM")
        out = []
        seq = after + 1
        while seq <= info.state.last_seq:
            try:
                raw = await bus.js.get_msg("NEM", seq, subject=DISPATCH_PRICE, next=True)
            except Exception:  # noqa: BLE001 - none further
                break
            out.append(int(raw.seq or 0))
            seq = int(raw.seq or seq) + 1
        return out
    finally:
        await bus.close()


def test_latest_price_comes_from_the_bus_at_once(
    api: str, stack: Stack, samples: SampleSet
) -> None:
    publisher = Publisher(stack, samples, "api-latest", 2031)
    publisher.publish(1)
    moved = publisher.messages[0].interval.replace(year=2031)

    def newest() -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{api}/v1/prices/latest", params={"region": "SA1"}).json()
        return body

    run_async(wait_until(lambda: _async(newest()["source"] == "bus"), within=10))
    body = newest()
    assert body["sequence"] > 0
    assert [r["region"] for r in body["data"]] == ["SA1"]
    assert nem(body["data"][0]["interval_end"]) == moved.replace(tzinfo=None)
    source = [r for r in publisher.messages[0].rows if r.regionid == "SA1" and r.intervention == 0]
    assert body["data"][0]["rrp"] == source[0].rrp


async def _async(value: bool) -> bool:
    return value


def test_sse_resumes_after_a_dropped_connection_with_no_gap_and_no_repeat(
    api: str, stack: Stack, samples: SampleSet
) -> None:
    publisher = Publisher(stack, samples, "api-sse", 2032)
    start = run_async(_price_sequences(stack, 0))
    after = start[-1] if start else 0
    url = f"{api}/v1/stream?kinds=prices&after={after}"
    got: list[Received] = []
    reader = threading.Thread(target=lambda: got.extend(read_sse(url, count=5)))
    reader.start()
    time.sleep(0.5)
    publisher.publish(5)
    reader.join(30)
    assert len(got) == 5
    last = got[-1].id
    publisher.publish(10)  # while the client is away
    resumed = read_sse(
        f"{api}/v1/stream?kinds=prices", count=10, headers={"Last-Event-ID": str(last)}
    )
    expected = run_async(_price_sequences(stack, after))
    ids = [e.id for e in got + resumed]
    assert ids == expected[:15]  # every event once, in order
    assert all(e.event == "prices" for e in got + resumed)
    assert all(e.data["sequence"] == e.id for e in got + resumed)


def test_websocket_resumes_by_after_with_no_gap_and_no_repeat(
    api: str, stack: Stack, samples: SampleSet
) -> None:
    publisher = Publisher(stack, samples, "api-ws", 2033)
    start = run_async(_price_sequences(stack, 0))
    after = start[-1] if start else 0
    base = api.replace("http://", "ws://")

    async def read(after: int, count: int, publish: int) -> list[int]:
        ids: list[int] = []
        async with websockets.connect(f"{base}/v1/ws?kinds=prices&after={after}") as socket:
            if publish:
                await asyncio.to_thread(publisher.publish, publish)
            while len(ids) < count:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 20))
                if frame["event"] == "prices":
                    ids.append(frame["id"])
        return ids

    first = run_async(read(after, 4, 4))
    publisher.publish(6)
    second = run_async(read(first[-1], 6, 0))
    expected = run_async(_price_sequences(stack, after))
    assert first + second == expected[:10]


def test_a_slow_client_is_dropped_alone_and_logged(stack: Stack, samples: SampleSet) -> None:
    scada = next(
        e.message
        for report in iter_reports(samples.path(names.SCADA))
        for e in report_events("scada", report)
        if e.subject == SCADA_UNIT
    )
    assert isinstance(scada, UnitScada)
    with api_process(stack, NEMSTREAM_API_CLIENT_STALL_S="2", **UNLIMITED) as url:
        parsed = urlparse(url)
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect((parsed.hostname, parsed.port))
        stuck.sendall(b"GET /v1/stream?kinds=scada HTTP/1.1\r\nHost: x\r\n\r\n")  # never read
        time.sleep(0.5)
        received: list[Received] = []
        reader = threading.Thread(
            target=lambda: received.extend(
                read_sse(f"{url}/v1/stream?kinds=scada", count=300, timeout=60)
            )
        )
        reader.start()
        time.sleep(0.5)

        async def flood() -> None:
            bus = await connect(BusSettings(nats_url=stack.nats_url), name="api-flood", wait_s=10)
            try:
                for n in range(300):
                    moved = scada.model_copy(
                        update={
                            "interval": scada.interval.replace(year=2034) + timedelta(minutes=5 * n)
                        }
                    )
                    await bus.publish(SCADA_UNIT, moved, msg_id=f"api-flood:{n}")
            finally:
                await bus.close()

        run_async(flood())
        reader.join(60)
        assert len(received) == 300  # the reading client got every event, undelayed

        def dropped() -> list[dict[str, object]]:
            lines = log_lines(stack)
            return [line for line in lines if line.get("event") == "stream_client_dropped"]

        deadline = time.monotonic() + 15
        while not dropped() and time.monotonic() < deadline:
            time.sleep(0.2)
        stuck.close()
        assert dropped() and str(dropped()[0]["reason"]).startswith("slow client")
        assert not [line for line in log_lines(stack) if line.get("level") == "error"]


# --- keys and limits ---------------------------------------------------------------------------


def test_keys_and_rate_limits_are_enforced(stack: Stack) -> None:
    with api_process(
        stack, NEMSTREAM_API_REQUIRE_KEY="true", NEMSTREAM_API_RATE_LIMIT="5/minute"
    ) as url:
        path = f"{url}/v1/prices?start=2019-05-16T00:00&end=2019-05-16T01:00"
        anonymous = httpx.get(path)
        assert anonymous.status_code == 401 and "API key" in anonymous.json()["detail"]
        wrong = httpx.get(path, headers={"Authorization": "Bearer not-the-key-at-all"})
        assert wrong.status_code == 401
        bearer = httpx.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        assert bearer.headers["cache-control"].startswith("private")
        statuses = [httpx.get(path, headers={"X-API-Key": TOKEN}).status_code for _ in range(5)]
        assert statuses[:4] == [200] * 4 and statuses[4] == 429
        limited = httpx.get(path, headers={"X-API-Key": TOKEN})
        assert int(limited.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/healthz").status_code == 200  # service endpoints stay open
        days = {"start": "2019-05-16", "end": "2019-05-16"}
        refused = httpx.post(f"{url}/v1/actions/integrity", json=days)
        assert refused.status_code == 401
    with api_process(stack, **UNLIMITED) as url:  # reads public, actions keyed
        days = {"start": "2019-05-16", "end": "2019-05-16"}
        assert httpx.post(f"{url}/v1/actions/integrity", json=days).status_code == 401
        wrong = httpx.post(
            f"{url}/v1/actions/integrity", json=days, headers={"X-API-Key": "x" * 20}
        )
        assert wrong.status_code == 401
        accepted = httpx.post(
            f"{url}/v1/actions/integrity", json=days, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()["id"]

        def finished() -> dict[str, Any]:
            body: dict[str, Any] = httpx.get(f"{url}/v1/jobs/{job}").json()
            return body

        deadline = time.monotonic() + 30
        while finished()["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert finished()["state"] == "done"
        assert finished()["result"]["duplicate_keys"] == 0
    with api_process(stack, NEMSTREAM_API_KEYS="", **UNLIMITED) as url:
        disabled = httpx.post(f"{url}/v1/actions/test-alert", json={})
        assert disabled.status_code == 403 and "NEMSTREAM_API_KEYS" in disabled.json()["detail"]
        assert TOKEN not in "".join(str(line) for line in log_lines(stack))


# --- the schema -------------------------------------------------------------------------------


def test_schemathesis_finds_no_server_error_and_no_schema_break(api: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{api}/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if operation.path == "/v1/stream":
            continue  # an endless stream: tested above
        operations += 1

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            try:
                case.call_and_validate(checks=checks, timeout=60)
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")
                raise

        with contextlib.suppress(Exception):  # recorded in `failures`
            run()
    assert operations >= 12
    assert failures == []
