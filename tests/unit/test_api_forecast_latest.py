"""``/v1/p5min/latest`` and ``/v1/predispatch/latest`` from the store (when the store holds a
newer run than the bus): the newest run's rows in the latest shape, on a store built from the
real P5MIN runs and pre-dispatch run (see test_query_forecasts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from nemstream_api._history import History
from nemstream_api._latest import _from_store
from nemstream_query import Query, QuerySettings
from nemstream_testing import SampleSet
from tests.unit.test_query_forecasts import DAY, raw_p5min, store_dir  # noqa: F401 - fixture


@pytest.fixture
def history(store_dir: Path) -> Iterator[History]:  # noqa: F811 - the imported fixture
    query = Query(QuerySettings(data_dir=store_dir.parent))
    yield cast(History, SimpleNamespace(store=query))
    query.close()


def test_the_newest_p5min_run_from_the_store(history: History, samples: SampleSet) -> None:
    run = DAY + timedelta(minutes=55)
    rows: list[dict[str, Any]] = _from_store(history, "p5min", run, {"TAS1"})
    expected = sorted(
        (interval.strftime("%Y-%m-%dT%H:%M:%S+10:00"), rrp)
        for made, interval, region, rrp in raw_p5min(samples)
        if made == run and region == "TAS1"
    )
    assert sorted((r["interval_end"], r["rrp"]) for r in rows) == expected
    assert {(r["run"], r["minutes"], r["source"]) for r in rows} == {
        ("2019-05-16T00:55:00+10:00", 5, "p5min")
    }
    assert rows[0]["interval_start"] == "2019-05-16T00:50:00+10:00"
