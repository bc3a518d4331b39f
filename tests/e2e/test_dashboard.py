"""The dashboard in a real browser (Debian's chromium driven by Playwright), over a store built
from real sample files through the bus by real processes: every tab loads with data, region and
range change the plots and the URL, a CSV holds exactly what the query layer answers, a link
reproduces a view, the dark theme applies, a new interval appears on an open page without a
reload, and nothing errs in the page's console or the server's log.

Screenshots of every tab are kept as test artifacts (``$NEMSTREAM_TEST_ARTIFACTS``, default
``.cache/e2e-artifacts``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from nemstream_bus import BusSettings, connect
from nemstream_contracts import DISPATCH_PRICE, DispatchPrice
from nemstream_fetcher import report_events
from nemstream_market import REGIONS
from nemstream_mms import iter_reports
from nemstream_query import Query, QuerySettings
from nemstream_testing import SampleSet, names, repo_root
from tests.e2e.stack_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Stack,
    dashboard,
    loaded_stack,
    run_async,
)

pytestmark = pytest.mark.slow

TABS = ("today", "generation", "prices", "stations", "rooftop")
ARTIFACTS = Path(
    os.environ.get("NEMSTREAM_TEST_ARTIFACTS", repo_root() / ".cache" / "e2e-artifacts")
)


@pytest.fixture(scope="module")
def stack(samples: SampleSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nats-server, writer and aggregator with the real samples replayed into the store."""
    with loaded_stack(samples, tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def url(stack: Stack) -> Iterator[str]:
    """The dashboard over the stack's store."""
    with dashboard(stack.data, stack.logs) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that fails the test on any JavaScript error or console error."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], errors


def loaded(page: Page, tab: str) -> None:
    """Wait until the tab is open, its charts drawn and no query running."""
    page.locator(".bk-tab.bk-active", has_text=tab.capitalize()).wait_for(timeout=30_000)
    page.locator("canvas:visible").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.locator(".pn-loading").first.wait_for(state="detached", timeout=30_000)


def shot(page: Page, name: str) -> None:
    """Keep a screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def server_errors(stack: Stack) -> list[str]:
    """Error lines and tracebacks in the dashboard's log."""
    bad = []
    for log in stack.logs.glob("dashboard-*.log"):
        for line in log.read_text("utf-8", "replace").splitlines():
            if "Traceback" in line or '"level": "error"' in line or "ERROR" in line:
                bad.append(line)
    return bad


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_loads_with_data(page: Page, url: str, stack: Stack, tab: str) -> None:
    range_ = "all" if tab != "today" else "24h"
    unit = "&unit=Bayswater%20Power%20Station&by=station" if tab == "stations" else ""
    page.goto(f"{url}/?tab={tab}&range={range_}{unit}")
    loaded(page, tab)
    assert page.get_by_text("Could not load this view").count() == 0
    shot(page, f"tab-{tab}")
    assert server_errors(stack) == []


def test_today_shows_emissions_intensity_beside_renewable_share(
    page: Page, url: str, stack: Stack
) -> None:
    page.goto(f"{url}/?tab=today&range=24h&region=SA1")
    loaded(page, "today")
    card = page.locator(".card-emissions-intensity").first
    table = card.locator("table.emissions-table")
    table.wait_for(timeout=30_000)
    query = Query(QuerySettings(data_dir=stack.data, query_cache_size=0))
    try:
        now = query.emissions_now()
    finally:
        query.close()
    assert not now.is_empty()  # the store's SCADA with AEMO's real CO2EII factors
    rows = table.locator("tr")
    for region in ("NEM", *REGIONS):
        shown = rows.filter(has_text=region).first.inner_text().split()
        expected = now.filter(pl.col("region") == region).row(0, named=True)
        assert shown[1] == f"{expected['intensity']:.3f}", region
    assert table.locator("tr.picked").inner_text().startswith("SA1")
    share = page.locator(".card-renewable-share").first.bounding_box()
    beside = card.bounding_box()
    assert share is not None and beside is not None
    assert abs(share["y"] - beside["y"]) < 5 and beside["x"] > share["x"]  # one row, beside it
    shot(page, "today-emissions")


def download_csv(page: Page, card: str) -> pl.DataFrame:
    """Click a card's CSV button (the card by its title) and read what it gave."""
    slug = "".join(c if c.isalnum() else "-" for c in card.lower()).strip("-")
    section = page.locator(f".card-{slug}").first
    with page.expect_download(timeout=30_000) as caught:
        section.locator(".csv-download button, .csv-download a").first.click()
    path = caught.value.path()
    assert path is not None
    return pl.read_csv(path, try_parse_dates=True)


def test_region_and_range_change_the_plots_and_the_url(page: Page, url: str) -> None:
    page.goto(f"{url}/?tab=prices&range=all")
    loaded(page, "prices")
    everything = download_csv(page, "Price series")
    assert set(everything["region"]) == {"NSW1", "QLD1", "SA1", "TAS1", "VIC1"}
    page.locator("select").first.select_option("SA1")
    page.wait_for_url("**region=SA1**", timeout=30_000)
    loaded(page, "prices")
    page.wait_for_timeout(1000)
    sa = download_csv(page, "Price series")
    assert set(sa["region"]) == {"SA1"}
    page.get_by_role("button", name="24h", exact=True).click()
    page.wait_for_url("**range=24h**", timeout=30_000)
    loaded(page, "prices")
    page.wait_for_timeout(1000)
    day = download_csv(page, "Price series")
    assert set(day["region"]) == {"SA1"} and day.height == 288  # 24 h of 5-minute prices
    span = day["interval"].max() - day["interval"].min()  # type: ignore[operator]
    assert span == timedelta(hours=23, minutes=55)
    assert sa["interval"].max() - sa["interval"].min() > timedelta(days=300)  # type: ignore[operator]


def test_a_csv_holds_exactly_what_the_query_layer_answers(
    page: Page, url: str, stack: Stack
) -> None:
    page.goto(f"{url}/?tab=prices&range=30d&region=NSW1")
    loaded(page, "prices")
    page.wait_for_timeout(1000)
    got = download_csv(page, "Price series").sort("interval")
    latest = got["interval"].max()
    assert isinstance(latest, datetime)
    query = Query(QuerySettings(data_dir=stack.data, query_cache_size=0))
    try:
        answer = query.prices(latest - timedelta(days=30), latest, regions=["NSW1"]).frame
    finally:
        query.close()
    expected = answer.sort("interval")
    assert got.columns == expected.columns  # what is plotted, with its minutes and completeness
    assert got["interval"].to_list() == expected["interval"].to_list()
    assert got["rrp"].to_list() == expected["rrp"].to_list()


def test_a_link_reproduces_the_view(page: Page, url: str) -> None:
    page.goto(f"{url}/?tab=rooftop&region=QLD1&range=all")
    loaded(page, "rooftop")
    assert page.locator("select").first.input_value() == "QLD1"
    active = page.locator(".bk-tab.bk-active").first.inner_text()
    assert active.strip() == "Rooftop"
    regions = download_csv(page, "Rooftop PV by region")
    parts = download_csv(page, "Rooftop PV by sub-region")
    assert set(regions["regionid"]) == {"QLD1"}
    assert set(parts["regionid"]) <= {"QLDC", "QLDN", "QLDS"} and parts.height > 0


def test_the_dark_theme_applies(page: Page, url: str) -> None:
    page.goto(f"{url}/?tab=today&theme=dark")
    loaded(page, "today")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in background[background.index("(") + 1 : -1].split(",")[:3])
    assert red + green + blue < 200, background  # dark
    shot(page, "theme-dark")


def test_a_new_interval_appears_on_an_open_page_without_reload(
    page: Page, url: str, stack: Stack, samples: SampleSet
) -> None:
    page.goto(f"{url}/?tab=today")
    loaded(page, "today")
    freshness = page.locator(".freshness")
    assert freshness.get_by_text("01 Apr 2026 00:00").count() == 1
    # the real 2025-12-27 00:05 prices, published again as the interval after the store's
    # newest (the values are AEMO's; only the interval is moved, to be new)
    (price,) = [
        e
        for r in iter_reports(samples.path(names.DISPATCHIS_2025))
        for e in report_events("dispatch", r)
        if e.subject == DISPATCH_PRICE
    ]
    message = price.message
    assert isinstance(message, DispatchPrice)
    newest = datetime(2026, 4, 1, 0, 0)
    moved = message.model_copy(
        update={"interval": message.interval.replace(year=2026, month=4, day=1, hour=0, minute=5)}
    )
    began = datetime.now()

    async def publish() -> None:
        bus = await connect(BusSettings(nats_url=stack.nats_url), name="e2e-live", wait_s=10)
        try:
            await bus.publish(DISPATCH_PRICE, moved, msg_id=f"e2e-live:{newest:%Y%m%d%H%M}")
        finally:
            await bus.close()

    run_async(publish())
    freshness.get_by_text("01 Apr 2026 00:05").wait_for(timeout=20_000)
    seconds = (datetime.now() - began).total_seconds()
    print(f"published → visible on an open page: {seconds:.1f} s")
    assert page.locator(".price-card").get_by_text("01 Apr 00:05").count() >= 1
