"""Gathering a status report: every feed, consumer, service and store table at once, each read
on its own so one that fails becomes a red card with a sentence, never an error page.

Feeds: the newest interval is the newest of the last message on each of the feed's subjects
(``get_last_msg``) and of its tables in the store, aged against now in NEM time; the last poll
is what its fetcher recorded (`FeedPolls`). Consumers: JetStream's counts of each durable.
Services: a short GET of each ``/readyz``. Tables: rows and newest from the manifests, gaps in
the range from the data (in threads, answers kept while the table is unchanged).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta

import httpx
from nats.js.errors import NotFoundError
from prometheus_client import Histogram

from nemstream_bus import Bus
from nemstream_contracts import feed_subjects
from nemstream_control import FeedPoll, FeedPolls, Job, Jobs
from nemstream_market import naive_nem, nem_now, nem_time
from nemstream_query import Query
from nemstream_runtime import get_logger
from nemstream_status._report import (
    Colour,
    ConsumerCard,
    FeedCard,
    Gap,
    ServiceCard,
    StatusReport,
    TableCard,
    consumer_colour,
    feed_colour,
    worst,
)
from nemstream_status._store import (
    FEEDS,
    TableGaps,
    feed_tables,
    rows_and_latest,
    table_feed,
    table_gaps,
)
from nemstream_status.settings import StatusSettings
from nemstream_store import TABLES

log = get_logger(__name__)

REPORT_SECONDS = Histogram("nemstream_status_report_seconds", "Time to gather a status report")

GAPS_KEPT = 128
"""Gap answers kept (per table, range and table version)."""


class BadRequest(ValueError):
    """A request that cannot be answered as asked (a bad range, an unknown feed): its sentence
    is what the client sees."""


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The intervals of trading days `first`..`last` (inclusive): those ending in
    (first 00:00, last + 1 day 00:00], naive NEM time."""
    start = datetime.combine(first, datetime.min.time())
    return start, datetime.combine(last + timedelta(days=1), datetime.min.time())


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _age_words(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class StatusCollector:
    """Builds `StatusReport`s for one bus and one store (the status page and the API share it)."""

    def __init__(
        self,
        bus: Bus,
        query: Query,
        settings: StatusSettings | None = None,
        *,
        clock: Callable[[], datetime] = nem_now,
    ) -> None:
        self.bus = bus
        self.query = query
        self.settings = settings or StatusSettings()
        self.clock = clock
        self.http = httpx.AsyncClient(timeout=self.settings.status_probe_timeout_s)
        self._gaps: OrderedDict[Hashable, TableGaps] = OrderedDict()
        self._reports: dict[tuple[datetime, datetime], tuple[float, StatusReport]] = {}

    async def close(self) -> None:
        """Close the HTTP client of the probes."""
        await self.http.aclose()

    def default_days(self, now: datetime | None = None) -> tuple[date, date]:
        """The trading days the gap check covers unless asked otherwise: the last
        ``status_gap_days`` and today."""
        today = nem_time(now or self.clock()).date()
        return today - timedelta(days=self.settings.status_gap_days), today

    def check_range(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """A range as naive NEM time, or `BadRequest` saying what is wrong with it."""
        start, end = naive_nem(start), naive_nem(end)
        if end <= start:
            raise BadRequest(f"the range ends ({end:%Y-%m-%d %H:%M}) before it starts")
        if end - start > timedelta(days=self.settings.status_max_range_days):
            raise BadRequest(
                f"a range covers at most {self.settings.status_max_range_days:g} days "
                "(NEMSTREAM_STATUS_MAX_RANGE_DAYS)"
            )
        return start, end

    async def report(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> StatusReport:
        """Everything the page shows; gaps over (start, end] (default: `default_days`). A report
        is reused for ``status_cache_s`` unless `now` is given."""
        if start is None or end is None:
            start, end = day_range(*self.default_days(now))
        start, end = self.check_range(start, end)
        cached = self._reports.get((start, end))
        ttl = self.settings.status_cache_s
        if now is None and cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]
        with REPORT_SECONDS.time():
            moment = nem_time(now or self.clock())
            feeds, consumers, services, tables, jobs = await asyncio.gather(
                self.feeds(moment),
                self.consumers(),
                self.services(),
                self.tables(start, end),
                self.jobs(),
            )
        colours = [c.colour for c in feeds] + [c.colour for c in consumers]
        colours += [c.colour for c in services] + [c.colour for c in tables]
        report = StatusReport(
            generated_at=moment,
            start=nem_time(start),
            end=nem_time(end),
            colour=worst(colours),
            feeds=feeds,
            consumers=consumers,
            services=services,
            tables=tables,
            jobs=jobs,
            actions_enabled=bool(self.settings.keys),
            refresh_s=self.settings.status_refresh_s,
        )
        if now is None and ttl > 0:
            self._reports = {(start, end): (time.monotonic(), report)}
        return report

    async def feeds(self, now: datetime) -> list[FeedCard]:
        """One card per fetcher feed."""
        polls: FeedPolls | None = None
        try:
            polls = await FeedPolls.open(self.bus)
        except Exception as exc:  # noqa: BLE001 - shown on every card instead
            log.warning("status_feed_polls_unreadable", error=repr(exc))
        return list(await asyncio.gather(*(self._feed(feed, now, polls) for feed in FEEDS)))

    async def _feed(self, feed: str, now: datetime, polls: FeedPolls | None) -> FeedCard:
        problems: list[str] = []
        found: list[tuple[datetime, str]] = []
        for subject in feed_subjects(feed):
            try:
                last = await self.bus.js.get_last_msg(self.bus.settings.stream_name, subject.name)
            except NotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - NATS away: the store still answers
                problems.append(f"bus unreadable: {_short(exc)}")
                break
            try:
                interval = datetime.fromisoformat(json.loads(last.data or b"{}")["interval"])
            except (ValueError, KeyError, TypeError):
                continue
            found.append((nem_time(interval), "bus"))
        for table in feed_tables(feed):
            try:
                _, latest = await asyncio.to_thread(rows_and_latest, self.query.engine, table)
            except (OSError, ValueError) as exc:
                problems.append(f"store unreadable: {_short(exc)}")
                continue
            if latest is not None:
                found.append((nem_time(latest), "store"))
        poll: FeedPoll | None = None
        if polls is not None:
            try:
                poll = await polls.get(feed)
            except Exception as exc:  # noqa: BLE001 - the card says so
                problems.append(f"last poll unreadable: {_short(exc)}")
        amber, red = self.settings.thresholds(feed)
        latest, seen_on = max(found) if found else (None, "")
        age = (now - latest).total_seconds() if latest is not None else None
        colour = feed_colour(age, amber, red)
        if latest is None or age is None:
            detail = "no data yet, on the bus or in the store"
        else:
            detail = (
                f"newest seen on the {seen_on}; amber after {_age_words(amber)}, "
                f"red after {_age_words(red)}"
            )
        if problems:
            detail += "; " + "; ".join(problems)
        return FeedCard(
            feed=feed,
            colour=colour,
            latest_interval=latest,
            age_s=age,
            seen_on=seen_on,
            amber_after_s=amber,
            red_after_s=red,
            last_poll_at=nem_time(poll.polled_at) if poll else None,
            last_poll_ok=poll.ok if poll else None,
            last_error=poll.last_error if poll else None,
            last_error_at=nem_time(poll.last_error_at) if poll and poll.last_error_at else None,
            detail=detail,
        )

    async def consumers(self) -> list[ConsumerCard]:
        """One card per durable consumer of the NEM stream."""
        return [await self._consumer(durable) for durable in self.settings.consumers]

    async def _consumer(self, durable: str) -> ConsumerCard:
        try:
            info = await self.bus.js.consumer_info(self.bus.settings.stream_name, durable)
        except NotFoundError:
            return ConsumerCard(
                durable=durable,
                colour=Colour.RED,
                exists=False,
                detail="no such consumer: its service never started on this stream",
            )
        except Exception as exc:  # noqa: BLE001 - NATS away: a red card, not an error page
            return ConsumerCard(
                durable=durable, colour=Colour.RED, exists=False, detail=f"unknown: {_short(exc)}"
            )
        pending, redelivered = int(info.num_pending or 0), int(info.num_redelivered or 0)
        ack_pending = int(info.num_ack_pending or 0)
        colour = consumer_colour(True, pending, redelivered, self.settings.status_pending_amber)
        return ConsumerCard(
            durable=durable,
            colour=colour,
            exists=True,
            pending=pending,
            ack_pending=ack_pending,
            redelivered=redelivered,
            detail=f"{pending} pending, {ack_pending} unacknowledged, {redelivered} redelivered",
        )

    async def services(self) -> list[ServiceCard]:
        """One card per service readiness URL, probed at once."""
        probes = [self._service(n, u) for n, u in self.settings.services.items()]
        return list(await asyncio.gather(*probes))

    async def _service(self, name: str, url: str) -> ServiceCard:
        try:
            response = await self.http.get(url)
        except httpx.HTTPError as exc:
            return ServiceCard(
                name=name,
                url=url,
                colour=Colour.RED,
                state="unreachable",
                detail=f"no answer: {type(exc).__name__}",
            )
        checks: dict[str, bool] = {}
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("checks"), dict):
                checks = {str(k): bool(v) for k, v in body["checks"].items()}
        except ValueError:
            pass
        if response.status_code == 200:
            return ServiceCard(
                name=name,
                url=url,
                colour=Colour.GREEN,
                state="ready",
                checks=checks,
                detail="ready",
            )
        failing = [k for k, ok in checks.items() if not ok]
        return ServiceCard(
            name=name,
            url=url,
            colour=Colour.AMBER,
            state="not ready",
            checks=checks,
            detail=f"HTTP {response.status_code}"
            + (f", failing: {', '.join(failing)}" if failing else ""),
        )

    async def tables(self, start: datetime, end: datetime) -> list[TableCard]:
        """One card per store table, with its gaps in (start, end]."""
        return [await self._table(table, start, end) for table in TABLES]

    async def table_gaps(self, table: str, start: datetime, end: datetime) -> TableGaps:
        """A table's gaps in (start, end], read in a thread, kept while the table is unchanged."""
        engine = self.query.engine
        _, latest = await asyncio.to_thread(rows_and_latest, engine, table)
        key = (table, start, end, latest, engine.version(table))
        if (found := self._gaps.get(key)) is not None:
            self._gaps.move_to_end(key)
            return found
        found = await asyncio.to_thread(table_gaps, engine, table, start, end, latest)
        self._gaps[key] = found
        while len(self._gaps) > GAPS_KEPT:
            self._gaps.popitem(last=False)
        return found

    async def _table(self, table: str, start: datetime, end: datetime) -> TableCard:
        feed = table_feed(table)
        minutes = TABLES[table].interval_minutes
        try:
            rows, latest = await asyncio.to_thread(rows_and_latest, self.query.engine, table)
            found = await self.table_gaps(table, start, end)
        except Exception as exc:  # noqa: BLE001 - an unreadable table is a red card
            log.warning("status_table_unreadable", table=table, error=repr(exc))
            return TableCard(
                table=table,
                feed=feed,
                minutes=minutes,
                colour=Colour.RED,
                rows=0,
                detail=f"unreadable: {_short(exc)}",
            )
        limit = self.settings.status_gap_runs
        listed = [
            Gap(
                start=nem_time(a),
                end=nem_time(b),
                intervals=round((b - a) / timedelta(minutes=step)),
                first_day=found.days(i)[0],
                last_day=found.days(i)[1],
            )
            for i, (a, b, step) in enumerate(found.runs[:limit])
        ]
        if latest is None:
            detail = "empty"
        elif found.missing:
            gaps = len(found.runs)
            detail = (
                f"{found.missing} of {found.expected} intervals missing "
                f"in {gaps} gap{'s' if gaps > 1 else ''}"
            )
        else:
            detail = (
                f"complete: {found.expected} intervals" if found.expected else "no data in range"
            )
        return TableCard(
            table=table,
            feed=feed,
            minutes=found.minutes or minutes,
            colour=Colour.AMBER if found.missing else Colour.GREEN,
            rows=rows,
            latest_interval=nem_time(latest) if latest else None,
            expected=found.expected,
            missing=found.missing,
            gaps=listed,
            gaps_total=len(found.runs),
            detail=detail,
        )

    async def jobs(self, limit: int = 12) -> list[Job]:
        """The newest jobs (none when the bucket cannot be read)."""
        try:
            return await (await Jobs.open(self.bus)).recent(self.bus, limit)
        except Exception as exc:  # noqa: BLE001 - the page goes on without them
            log.warning("status_jobs_unreadable", error=repr(exc))
            return []
