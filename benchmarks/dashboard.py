"""The dashboard on the scale store, in headless Chromium: time from page request to each tab's
plots drawn, with 1 and with 10 concurrent sessions; a new interval stored → visible on open
pages; the server's memory.

    uv run python benchmarks/dashboard.py [--dir .cache/bench] [--loads 10] [--rounds 2]

Builds (or reuses) the store of `scale.py` and works on a hard-linked copy of it: a real
nats-server, the writer (`python -m nemstream_writer`) and the dashboard (`python -m
nemstream_dashboard`), each its own process, and Debian's chromium driven by Playwright.

* **Page loads.** A load is a new page (a new server session) asking for
  ``/?tab=…&range=…``, timed until the tab says it has drawn (``data-drawn`` on its status
  element: every card queried and filled), its charts' canvases are visible, the loading
  indicator is gone and the browser has painted two frames. Each simulated user keeps one
  browser context (a returning analyst: the page's JavaScript is cached) and makes one untimed
  load first. The dashboard's query cache is off (``NEMSTREAM_QUERY_CACHE_SIZE=0``), so every
  load does its queries: the worst case; one run with the cache on (the default) is reported
  apart. Today shows 24 hours; every other tab 1 year. With 1 session the tabs are interleaved
  round by round; with 10 sessions all ten load the same tab at once.
* **The server's part.** The ten browsers share this machine's two cores with the server, so
  the 10-session figures include ten browsers laying out pages at once. The same 10 concurrent
  requests made with a plain HTTP client (the tab is queried and drawn into the first page,
  so the page received is the server's whole work) separate the server's share.
* **Stored → visible.** On a second dashboard with the default query cache, ten pages stay
  open on Today while the benchmark publishes one new interval at a time (SCADA for every
  unit, prices, flows) through the bus; the writer stores it; the time from its prices'
  manifest changing (watched by this process every 10 ms) to each page showing the new
  interval is one sample.
* **Memory.** Each dashboard process's peak RSS (VmHWM) after its runs.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import statistics
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import polars as pl
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

import livestore
import scale
from nemstream_bus import Bus, BusSettings, NatsServer, connect
from nemstream_store import TableReader
from nemstream_testing import free_port

CHROMIUM = os.environ.get("NEMSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TABS = ("today", "generation", "prices", "stations", "rooftop")
TARGET_S = {"today": (2.0, 4.0)} | {t: (3.0, None) for t in TABS if t != "today"}
"""p95 targets (1 session, 10 sessions); the issue sets none for other tabs at 10 sessions."""
LIVE_TARGET_S = 5.0
RSS_TARGET_MB = 1024.0
TIMEOUT_MS = 120_000


@dataclass
class Processes:
    """The processes the benchmark runs, stopped in reverse."""

    started: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start(self, module: str, env: dict[str, str], log: Path) -> Any:
        """Run `python -m module` with its output to `log`."""
        with log.open("ab") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, env=env, stdout=sink, stderr=sink
            )
        self.started.append(process)
        return process

    async def stop(self) -> None:
        """SIGTERM each, newest first; kill what does not stop."""
        for process in reversed(self.started):
            await self.stop_one(process)

    @staticmethod
    async def stop_one(process: asyncio.subprocess.Process) -> None:
        """SIGTERM one; kill it if it does not stop."""
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_http(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            await asyncio.to_thread(urllib.request.urlopen, url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def drawn(page: Page, tab: str) -> None:
    """Wait until `tab` has drawn, its charts are on screen, nothing is loading, and the
    browser has painted."""
    marker = page.locator(f'.view-drawn[data-view="{tab}"]')
    await marker.wait_for(state="attached", timeout=TIMEOUT_MS)
    if await marker.get_attribute("data-failed") == "1":
        raise RuntimeError(f"the {tab} tab failed to load (see the dashboard's log)")
    await page.locator("canvas:visible").first.wait_for(timeout=TIMEOUT_MS)
    await page.locator(".pn-loading").first.wait_for(state="detached", timeout=TIMEOUT_MS)
    await page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )


async def load(context: BrowserContext, url: str) -> tuple[float, Page]:
    """Open `url` in a new page; seconds until its tab has drawn (the page stays open)."""
    tab = url.split("tab=")[1].split("&")[0]
    page = await context.new_page()
    began = time.perf_counter()
    await page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    await drawn(page, tab)
    return time.perf_counter() - began, page


def tab_urls(base: str, station: str) -> dict[str, str]:
    """Each tab's page: Today on its 24 hours, the rest on 1 year, for the NEM."""
    quoted = urllib.parse.quote(station)
    return {
        "today": f"{base}/?tab=today&range=24h",
        "generation": f"{base}/?tab=generation&range=1y",
        "prices": f"{base}/?tab=prices&range=1y",
        "stations": f"{base}/?tab=stations&range=1y&by=station&unit={quoted}",
        "rooftop": f"{base}/?tab=rooftop&range=1y",
    }


async def page_loads(
    browser: Browser, urls: dict[str, str], *, sessions: int, rounds: int
) -> dict[str, list[float]]:
    """Load every tab `rounds` times with `sessions` users at once; seconds per load."""
    users = [
        await browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(sessions)
    ]
    times: dict[str, list[float]] = {tab: [] for tab in urls}
    try:
        for context in users:  # one untimed load per user: its JavaScript cached
            _, page = await load(context, urls["today"])
            await page.close()
        for _ in range(rounds):
            for tab, url in urls.items():
                done = await asyncio.gather(*(load(context, url) for context in users))
                for seconds, page in done:
                    times[tab].append(seconds)
                    await page.close()
    finally:
        for context in users:
            await context.close()
    return times


async def html_loads(urls: dict[str, str], *, sessions: int, rounds: int) -> dict[str, list[float]]:
    """The server's part of a page load: `sessions` requests for a tab at once, each timed to
    the whole page received (the tab already queried and drawn into it)."""
    times: dict[str, list[float]] = {tab: [] for tab in urls}
    async with httpx.AsyncClient(timeout=TIMEOUT_MS / 1000) as client:

        async def one(url: str) -> float:
            began = time.perf_counter()
            answer = await client.get(url)
            answer.raise_for_status()
            return time.perf_counter() - began

        for _ in range(rounds):
            for tab, url in urls.items():
                times[tab] += await asyncio.gather(*(one(url) for _ in range(sessions)))
    return times


async def stored_to_visible(
    browser: Browser,
    urls: dict[str, str],
    bus: Bus,
    reader: TableReader,
    end: datetime,
    *,
    sessions: int,
    intervals: int,
) -> list[float]:
    """Publish `intervals` new intervals, one at a time, with `sessions` pages open on Today;
    seconds from each interval's prices being stored to each page showing it."""
    units = livestore.registry_units(reader.root.parent)
    rng = np.random.default_rng(11)
    contexts = [await browser.new_context() for _ in range(sessions)]
    latencies: list[float] = []
    try:
        pages = [(await load(context, urls["today"]))[1] for context in contexts]
        for i in range(intervals):
            interval = end + timedelta(minutes=5 * (i + 1))
            label = f"{interval:%d %b %Y %H:%M}"
            before = reader.version("prices5")
            await livestore.publish_interval(bus, units, interval, rng)
            stored_at = await _changed(functools.partial(_moved, reader, before))
            seen = await asyncio.gather(*(_shows(page, label) for page in pages))
            latencies += [at - stored_at for at in seen]
            await asyncio.sleep(1.0)
    finally:
        for context in contexts:
            await context.close()
    return latencies


def _moved(reader: TableReader, before: object) -> bool:
    return bool(reader.version("prices5") != before)


async def _changed(test: Callable[[], bool], within: float = 60.0) -> float:
    deadline = time.perf_counter() + within
    while not test():
        if time.perf_counter() > deadline:
            raise TimeoutError("the writer did not store the interval")
        await asyncio.sleep(0.01)
    return time.perf_counter()


async def _shows(page: Page, label: str) -> float:
    await page.locator(".freshness", has_text=label).wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter()


def _row(label: str, values: list[float], target: float | None) -> str:
    p50, p95 = statistics.median(values), livestore.percentile(values, 0.95)
    verdict = "–" if target is None else ("met" if p95 <= target else "**missed**")
    limit = "–" if target is None else f"≤ {target:.0f}"
    figures = f"{p50:.2f} | {p95:.2f} | {max(values):.2f}"
    return f"| {label} | {len(values)} | {figures} | {limit} | {verdict} |"


async def run(args: argparse.Namespace) -> None:
    """Start the stack on a copy of the scale store and measure."""
    built = scale.ensure(args.dir)
    end = datetime.fromisoformat(str(built["end"]))
    work = args.dir / "dashboard"
    data = await livestore.linked_copy(args.dir, work)
    registry = pl.read_parquet(data / "registry" / "units.parquet")
    station = str(
        registry.group_by("station_name")
        .agg(pl.col("capacity_mw").sum())
        .sort("capacity_mw", descending=True)["station_name"][0]
    )
    server = NatsServer(work / "nats")
    await server.start()
    processes = Processes()
    base = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_NATS_URL": server.url,
        "NEMSTREAM_HEALTH_HOST": "127.0.0.1",
        "NEMSTREAM_LOG_FORMAT": "json",
        "NEMSTREAM_LOG_LEVEL": args.log_level,
        # compaction would close the scale store's last month during the runs: not a page's cost
        "NEMSTREAM_COMPACT_EVERY_S": "3600",
    }
    bus = await connect(BusSettings(nats_url=server.url), name="bench-dashboard")
    await bus.ensure_streams()
    report: list[str] = []
    try:
        await processes.start(
            "nemstream_writer",
            base | {"NEMSTREAM_METRICS_PORT": str(free_port())},
            work / "writer.log",
        )

        async def dashboard(cache: int | None) -> tuple[str, Any]:
            port = free_port()
            settings = {"NEMSTREAM_DASHBOARD_PORT": str(port)}
            if cache is not None:
                settings["NEMSTREAM_QUERY_CACHE_SIZE"] = str(cache)
            process = await processes.start(
                "nemstream_dashboard", base | settings, work / f"dashboard-{port}.log"
            )
            url = f"http://127.0.0.1:{port}"
            await _wait_http(f"{url}/healthz")
            return url, process

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            url, process = await dashboard(0)
            urls = tab_urls(url, station)
            print(f"store: {built['duids']} DUIDs to {end:%Y-%m-%d %H:%M}; station: {station}")
            print("page loads, 1 session ...", flush=True)
            single = await page_loads(browser, urls, sessions=1, rounds=args.loads)
            print("page loads, 10 sessions ...", flush=True)
            many = await page_loads(browser, urls, sessions=10, rounds=args.rounds)
            print("server's part, 10 sessions ...", flush=True)
            served = await html_loads(urls, sessions=10, rounds=args.rounds)
            rss = livestore.vm_hwm_mb(process.pid)
            await processes.stop_one(process)
            cached_url, cached_process = await dashboard(None)
            cached_urls = tab_urls(cached_url, station)
            print("page loads, 1 session, query cache on ...", flush=True)
            cached = await page_loads(browser, cached_urls, sessions=1, rounds=args.loads)
            print(f"stored → visible, {args.pages} open pages, query cache on ...", flush=True)
            reader = TableReader(data / "store")
            live = await stored_to_visible(
                browser,
                cached_urls,
                bus,
                reader,
                end,
                sessions=args.pages,
                intervals=args.intervals,
            )
            cached_rss = livestore.vm_hwm_mb(cached_process.pid)
            await browser.close()
    finally:
        await processes.stop()
        await bus.close()
        await server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    head = "| | loads | p50 s | p95 s | max s | target p95 s | |"
    report += ["", "Page request → the tab's plots drawn (query cache off):", "", head]
    report.append("|---|---|---|---|---|---|---|")
    for tab in TABS:
        span = "24 h" if tab == "today" else "1 year"
        name = f"{tab.capitalize()} ({span})"
        report.append(_row(f"{name}, 1 session", single[tab], TARGET_S[tab][0]))
        report.append(_row(f"{name}, 10 sessions", many[tab], TARGET_S[tab][1]))
    report += [
        "",
        "The server's part with 10 sessions at once (page request → the whole page, its tab",
        "queried and drawn, received; no browser on the machine):",
        "",
        head,
        "|---|---|---|---|---|---|---|",
    ]
    for tab in TABS:
        report.append(_row(tab.capitalize(), served[tab], None))
    report += ["", "With the query cache on (the default), 1 session:", "", head]
    report.append("|---|---|---|---|---|---|---|")
    for tab in TABS:
        report.append(_row(tab.capitalize(), cached[tab], None))
    report += [
        "",
        f"New interval stored → visible on {args.pages} open Today pages (query cache on, "
        "the default):",
        "",
        head,
    ]
    report.append("|---|---|---|---|---|---|---|")
    report.append(_row("stored → visible", live, LIVE_TARGET_S))
    report += [
        "",
        f"dashboard peak RSS (VmHWM): {rss:,.0f} MB, cache off, after its page loads "
        f"(target ≤ {RSS_TARGET_MB:,.0f} MB: {'met' if rss <= RSS_TARGET_MB else 'missed'}); "
        f"{cached_rss:,.0f} MB, cache on, after its page loads and the live run "
        f"({'met' if cached_rss <= RSS_TARGET_MB else 'missed'})",
    ]
    print("\n".join(report))


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--loads", type=int, default=10, help="loads per tab with 1 session")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 10 concurrent loads")
    parser.add_argument("--intervals", type=int, default=10, help="new intervals published")
    parser.add_argument("--pages", type=int, default=10, help="pages open for stored → visible")
    parser.add_argument("--log-level", default="WARNING", help="the services' (with --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the working copy and logs")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
