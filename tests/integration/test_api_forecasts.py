"""The forecast endpoints as a real API process over a real stack (nats-server, writer,
aggregator) fed by `nemstream replay` of the real P5MIN and pre-dispatch runs and the real
DispatchIS day of 2019-05-16: the latest forecast equals the newest file's rows, a given run
time gives that run, csv and parquet carry the same rows, ETags give 304, bad parameters 422,
accuracy equals a computation straight from the raw files, and the live stream carries the
runs as kind ``forecasts``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pytest

from nemstream_testing import SampleSet, names
from tests.e2e.stack_support import Stack, loaded_stack
from tests.integration.api_support import api_process, read_sse
from tests.unit.test_query_forecasts import (
    _expected_accuracy,
    raw_actuals,
    raw_p5min,
    raw_predispatch,
)

pytestmark = pytest.mark.slow

DAY = datetime(2019, 5, 16)
NEWEST_RUN = DAY + timedelta(minutes=55)
UNLIMITED = {"NEMSTREAM_API_RATE_LIMIT": "1000000/minute"}


@pytest.fixture(scope="module")
def stack(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nats-server, writer and aggregator with the real forecasts and day replayed."""
    files = [names.P5MIN_RUNS, names.HISTORY_DAY]
    with loaded_stack(samples, tmp_path_factory.mktemp("forecast-stack"), files) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[str]:
    with api_process(stack, **UNLIMITED) as url:
        yield url


def get(api: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{api}{path}", params=params, timeout=60)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+10:00")


def test_latest_forecast_is_the_newest_runs_rows(api: str, samples: SampleSet) -> None:
    response = get(api, "/v1/forecasts/prices")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = sorted(
        (_iso(interval), region, rrp)
        for run, interval, region, rrp in raw_p5min(samples)
        if run == NEWEST_RUN
    )
    got = sorted((r["interval_end"], r["region"], r["rrp"]) for r in body["data"])
    assert got == expected  # the 2019-05-01 pre-dispatch run forecasts nothing after 00:55
    first = body["data"][0]
    assert first["source"] == "p5min" and first["run"] == _iso(NEWEST_RUN)
    assert first["minutes"] == 5 and first["lead_minutes"] == 0
    assert first["interval_start"] == _iso(NEWEST_RUN - timedelta(minutes=5))
    assert body["meta"]["runs"] == {"p5min": _iso(NEWEST_RUN)}
    assert body["meta"]["start"] == _iso(NEWEST_RUN)


def test_a_given_run_time_and_source(api: str, samples: SampleSet) -> None:
    body = get(
        api,
        "/v1/forecasts/prices",
        run="2019-05-01T00:00",
        source="predispatch",
        hours=48,
        region=["NSW1", "TAS1"],
    ).json()
    expected = sorted(
        (_iso(interval), region, rrp)
        for interval, region, rrp in raw_predispatch(samples)
        if region in ("NSW1", "TAS1")
    )
    assert sorted((r["interval_end"], r["region"], r["rrp"]) for r in body["data"]) == expected
    assert {r["minutes"] for r in body["data"]} == {30}
    # as of 00:20 on the 16th: the run of 00:20, its leads 0 to 55
    early = get(api, "/v1/forecasts/prices", run="2019-05-16T00:22", source="p5min").json()
    assert {r["run"] for r in early["data"]} == {_iso(DAY + timedelta(minutes=20))}
    assert min(r["interval_end"] for r in early["data"]) == _iso(DAY + timedelta(minutes=25))


def test_csv_and_parquet_carry_the_same_rows(api: str) -> None:
    json_rows = get(api, "/v1/forecasts/prices", region="SA1").json()["data"]
    csv = get(api, "/v1/forecasts/prices", region="SA1", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(csv.content))
    assert frame["rrp"].to_list() == [r["rrp"] for r in json_rows]
    assert frame["run"].to_list() == [r["run"] for r in json_rows]
    parquet = get(api, "/v1/forecasts/prices", region="SA1", format="parquet")
    table = pl.read_parquet(io.BytesIO(parquet.content))
    assert table["rrp"].to_list() == [r["rrp"] for r in json_rows]
    assert table.schema["interval_end"] == pl.Datetime("us", "Australia/Brisbane")
    assert table.schema["run"] == pl.Datetime("us", "Australia/Brisbane")


def test_etag_gives_304(api: str) -> None:
    first = get(api, "/v1/forecasts/prices")
    again = httpx.get(
        f"{api}/v1/forecasts/prices",
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/forecasts/prices", {"run": "yesterday"}, "run"),
        ("/v1/forecasts/prices", {"hours": "0"}, "hours"),
        ("/v1/forecasts/prices", {"source": "nostradamus"}, "source"),
        ("/v1/forecasts/prices", {"region": "XX1"}, "region"),
        ("/v1/forecasts/accuracy", {"start": "2019-05-16", "end": "2019-05-15"}, "end"),
        ("/v1/forecasts/accuracy", {"source": "both!"}, "source"),
        ("/v1/forecasts/evolution", {}, "interval"),
        ("/v1/forecasts/evolution", {"interval": "soon"}, "interval"),
    ],
)
def test_bad_parameters_are_422(api: str, path: str, params: dict[str, str], field: str) -> None:
    response = get(api, path, **params)
    assert response.status_code == 422, response.text
    assert field in {str(part) for d in response.json()["detail"] for part in d["loc"]}


def test_accuracy_equals_a_computation_from_the_files(api: str, samples: SampleSet) -> None:
    actual = raw_actuals(samples)
    pairs = [
        (region, int((interval - run).total_seconds() // 60), rrp, actual[(interval, region)])
        for run, interval, region, rrp in raw_p5min(samples)
    ]
    expected = _expected_accuracy(pairs)
    body = get(
        api, "/v1/forecasts/accuracy", start="2019-05-15T23:55", end="2019-05-16T02:00"
    ).json()
    assert len(body["data"]) == len(expected) == 5 * 12
    for row in body["data"]:
        want = expected[(row["region"], row["lead_minutes"])]
        assert row["count"] == want["count"]
        assert row["mae"] == pytest.approx(want["mae"])
        assert row["bias"] == pytest.approx(want["bias"])
        assert row["spikes_300"] == want["spikes_300"]
        assert row["interval_start"] == "2019-05-15T23:55:00+10:00"
        assert row["interval_end"] == "2019-05-16T02:00:00+10:00"
    assert body["meta"]["resolution"] == "range"
    # the pre-dispatch run of 2019-05-01 has no actual prices in the store: no rows, not an error
    none = get(
        api,
        "/v1/forecasts/accuracy",
        start="2019-04-30T23:30",
        end="2019-05-02T04:00",
        source="predispatch",
    )
    assert none.status_code == 200 and none.json()["data"] == []


def test_evolution_of_one_interval(api: str, samples: SampleSet) -> None:
    target = DAY + timedelta(minutes=50)
    body = get(
        api, "/v1/forecasts/evolution", interval="2019-05-16T00:50", region="VIC1", source="p5min"
    ).json()
    expected = sorted(
        (_iso(run), rrp)
        for run, interval, region, rrp in raw_p5min(samples)
        if interval == target and region == "VIC1"
    )
    assert sorted((r["run"], r["rrp"]) for r in body["data"]) == expected
    outcome = raw_actuals(samples)[(target, "VIC1")]
    assert {r["actual"] for r in body["data"]} == {outcome}
    assert sorted(r["lead_minutes"] for r in body["data"]) == list(range(0, 55, 5))


def test_the_live_stream_carries_forecast_runs(api: str) -> None:
    events = read_sse(f"{api}/v1/stream?kinds=forecasts&after=0", count=13)
    assert {e.event for e in events} == {"forecasts"}
    subjects = [str(e.data["subject"]) for e in events]
    assert subjects.count("nem.p5min.price.v1") == 12
    assert subjects.count("nem.predispatch.price.v1") == 1
    feeds = {str(e.data["body"]["feed"]) for e in events}  # type: ignore[index]
    assert feeds == {"p5min", "predispatch"}


def test_the_newest_run_of_each_forecast_is_latest(api: str, samples: SampleSet) -> None:
    body = get(api, "/v1/p5min/latest", region="QLD1").json()
    expected = sorted(
        (_iso(interval), rrp)
        for run, interval, region, rrp in raw_p5min(samples)
        if run == NEWEST_RUN and region == "QLD1"
    )
    assert sorted((r["interval_end"], r["rrp"]) for r in body["data"]) == expected
    assert {(r["run"], r["region"], r["minutes"]) for r in body["data"]} == {
        (_iso(NEWEST_RUN), "QLD1", 5)
    }
    pd = get(api, "/v1/predispatch/latest").json()
    assert len(pd["data"]) == len(raw_predispatch(samples)) == 285
    assert {r["minutes"] for r in pd["data"]} == {30}
    assert min(r["lead_minutes"] for r in pd["data"]) == 0
