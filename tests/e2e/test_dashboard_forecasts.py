"""The dashboard's forecasts in a real browser (Debian's chromium driven by Playwright) over a
store built by real processes from the real P5MIN runs and the real DispatchIS day of
2019-05-16 replayed through the bus: the Today price chart carries the forecast band under the
actual prices, with the query layer's values, and the Forecasts tab shows accuracy by lead
with a CSV equal to the query layer's answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page

from nemstream_query import Query, QuerySettings
from nemstream_testing import SampleSet, names
from tests.e2e.stack_support import Stack, dashboard, loaded_stack
from tests.e2e.test_dashboard import (  # noqa: F401 - fixtures
    browser,
    download_csv,
    loaded,
    page,
    server_errors,
    shot,
)

pytestmark = pytest.mark.slow

MODEL = """name => {
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      if (model.name === name && model.glyph && ["Line", "VArea"].includes(model.glyph.type)) {
        return {x: model.data_source.data.x.length, level: model.level, visible: model.visible};
      }
    }
  }
  return null;
}"""
"""A line or band renderer of the page's Bokeh documents by name: its points, level, whether
it shows."""


@pytest.fixture(scope="module")
def stack(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nats-server, writer and aggregator with the real forecasts and their day replayed."""
    files = [names.HISTORY_DAY, names.P5MIN_RUNS]
    with loaded_stack(samples, tmp_path_factory.mktemp("forecast-dashboard"), files) as running:
        yield running


@pytest.fixture(scope="module")
def url(stack: Stack) -> Iterator[str]:
    with dashboard(stack.data, stack.logs) as served:
        yield served


@pytest.fixture(scope="module")
def query(stack: Stack) -> Iterator[Query]:
    opened = Query(QuerySettings(data_dir=stack.data, query_cache_size=0))
    yield opened
    opened.close()


def model(tab: Page, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = tab.evaluate(MODEL, name)
    return found


def test_today_draws_the_forecast_band_under_the_prices(
    page: Page,  # noqa: F811 - the fixture of test_dashboard
    url: str,
    stack: Stack,
    query: Query,
) -> None:
    page.goto(f"{url}/?tab=today&range=24h")
    loaded(page, "today")
    latest = query.latest("prices5")
    assert latest is not None
    band = query.forecast_band(latest - timedelta(hours=24), latest + timedelta(hours=6))
    assert band.height == 23 * 5  # the P5MIN intervals of the 12 runs: 00:00 to 01:50
    for region in ("NSW1", "SA1"):
        drawn = model(page, f"{region} forecast range")
        assert drawn == {"x": 23, "level": "underlay", "visible": True}, region
        line = model(page, f"{region} forecast")
        assert line is not None and line["x"] == 23
        actual = model(page, region)  # the actual prices, drawn over the band
        assert actual is not None and actual["level"] == "glyph" and actual["x"] >= 288
    shot(page, "today-forecast-band")
    # one region picked: only its band
    page.goto(f"{url}/?tab=today&range=24h&region=SA1")
    loaded(page, "today")
    assert model(page, "SA1 forecast range") == {"x": 23, "level": "underlay", "visible": True}
    hidden = model(page, "NSW1 forecast range")
    assert hidden is not None and hidden["visible"] is False
    assert server_errors(stack) == []


def test_the_forecasts_tab_shows_accuracy_by_lead(
    page: Page,  # noqa: F811 - the fixture of test_dashboard
    url: str,
    stack: Stack,
    query: Query,
) -> None:
    page.goto(f"{url}/?tab=forecasts&range=24h")
    loaded(page, "forecasts")
    assert page.get_by_text("Could not load this view").count() == 0
    got = download_csv(page, "Forecast accuracy, P5MIN (against the 5-minute price)")
    latest = query.latest("prices5")
    assert latest is not None
    expected = query.forecast_accuracy(latest - timedelta(hours=24), latest, source="p5min")
    assert got.height == expected.height == 5 * 12
    assert got.columns == expected.columns
    assert got["mae"].to_list() == pytest.approx(expected["mae"].to_list())
    line = model(page, "SA1")
    assert line is not None and line["x"] == 12  # MAE at the 12 leads
    summary = page.locator(".card-forecast-accuracy-by-region--all-leads").first
    assert summary.get_by_text("SA1").count() >= 1
    # the only pre-dispatch run (2019-05-01) has no actual prices in the store: said so
    assert page.get_by_text("No pre-dispatch forecasts with actual prices").count() == 1
    shot(page, "tab-forecasts")
    assert server_errors(stack) == []
