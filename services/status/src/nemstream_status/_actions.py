"""What an operator can ask for (the status page's forms, the API's actions), checked first and
recorded as jobs: an integrity check of the store (run here, in this process), a backfill of a
feed's trading days (executed by that feed's fetcher), a test alert (a text through the alerts
service and a mail through the mailer, each on its real sending path)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from pydantic import ValidationError

from nemstream_bus import Bus
from nemstream_control import (
    ALERTS_TEST,
    MAILER_TEST,
    BackfillRequest,
    Job,
    Jobs,
    JobState,
    TestAlertRequest,
    backfill_subject,
    new_job_id,
    submit,
)
from nemstream_market import nem_now, nem_time
from nemstream_query import Query
from nemstream_runtime import get_logger
from nemstream_status._collector import BadRequest
from nemstream_status._store import FEEDS, duplicate_keys, rows_and_latest, table_feed, table_gaps
from nemstream_status.settings import StatusSettings
from nemstream_store import TABLES

log = get_logger(__name__)

BACKFILL_MAX_DAYS = 62
"""Longest backfill an action may ask for (longer: `nemstream backfill` on a terminal)."""

RUNS_LISTED = 50
"""Gaps listed per table in an integrity check's result at most."""

DEFAULT_TEST_MESSAGE = "nemstream test alert"

_RUNNING: set[asyncio.Task[None]] = set()
"""Integrity checks in progress (a reference keeps each task alive until it ends)."""


def _sentence(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"]).removeprefix("Value error, ")


async def start_backfill(
    bus: Bus,
    feed: str,
    start: date,
    end: date,
    requested_by: str,
    *,
    today: date | None = None,
) -> Job:
    """Ask `feed`'s fetcher to backfill trading days `start`..`end` (inclusive); the job
    (queued until a fetcher of that feed takes it), or `BadRequest` saying why not."""
    if feed not in FEEDS:
        raise BadRequest(f"unknown feed {feed!r}: the feeds are {', '.join(FEEDS)}")
    if end < start:
        raise BadRequest(f"the range ends ({end}) before it starts ({start})")
    today = today or nem_now().date()
    if end > today:
        raise BadRequest(f"{end} is in the future (today is {today} in NEM time)")
    if (end - start).days + 1 > BACKFILL_MAX_DAYS:
        raise BadRequest(
            f"a backfill action covers at most {BACKFILL_MAX_DAYS} days; for more, run "
            f"`nemstream backfill --feed {feed} --from {start} --to {end}`"
        )
    try:
        request = BackfillRequest(
            job=new_job_id("backfill"), requested_by=requested_by, feed=feed, start=start, end=end
        )
    except ValidationError as exc:
        raise BadRequest(_sentence(exc)) from None
    job = await submit(bus, backfill_subject(feed), request, kind="backfill", target=feed)
    log.info(
        "action_backfill", job=job.id, feed=feed, start=str(start), end=str(end), by=requested_by
    )
    return job


async def send_test_alert(
    bus: Bus, requested_by: str, message: str = DEFAULT_TEST_MESSAGE
) -> list[Job]:
    """A test text (alerts service) and a test mail (mailer) with `message`: their two jobs."""
    message = message.strip()
    if not message:
        raise BadRequest("the test message is empty")
    jobs = []
    for subject, kind, target in (
        (ALERTS_TEST, "test_alert", "alerts"),
        (MAILER_TEST, "test_mail", "mailer"),
    ):
        try:
            request = TestAlertRequest(
                job=new_job_id(kind), requested_by=requested_by, message=message
            )
        except ValidationError as exc:
            raise BadRequest(_sentence(exc)) from None
        jobs.append(await submit(bus, subject, request, kind=kind, target=target))
    log.info("action_test_alert", jobs=[j.id for j in jobs], by=requested_by)
    return jobs


def _iso(moment: datetime) -> str:
    return nem_time(moment).isoformat()


async def _integrity(jobs: Jobs, job: Job, query: Query, start: datetime, end: datetime) -> None:
    """Check every table in a thread each, the job's progress kept current."""
    engine = query.engine
    gaps: dict[str, object] = {}
    duplicates: dict[str, int] = {}
    missing_total = 0
    try:
        for done, table in enumerate(TABLES):
            _, latest = await asyncio.to_thread(rows_and_latest, engine, table)
            found = await asyncio.to_thread(table_gaps, engine, table, start, end, latest)
            duplicates[table] = await asyncio.to_thread(duplicate_keys, engine, table, start, end)
            missing_total += found.missing
            gaps[table] = {
                "feed": table_feed(table),
                "expected": found.expected,
                "missing": found.missing,
                "gaps": len(found.runs),
                "runs": [
                    {
                        "start": _iso(a),
                        "end": _iso(b),
                        "first_day": found.days(i)[0].isoformat(),
                        "last_day": found.days(i)[1].isoformat(),
                    }
                    for i, (a, b, _) in enumerate(found.runs[:RUNS_LISTED])
                ],
            }
            await jobs.update(
                job.id, done=done + 1, detail=f"{done + 1} of {len(TABLES)} tables checked"
            )
    except Exception as exc:  # the job fails with a sentence; the log has the traceback
        log.exception("integrity_failed", job=job.id)
        await jobs.update(
            job.id, state=JobState.FAILED, detail=f"failed: {type(exc).__name__}: {exc}"
        )
        return
    twice = sum(duplicates.values())
    with_gaps = [t for t, g in gaps.items() if isinstance(g, dict) and g["missing"]]
    summary = (
        f"{missing_total} intervals missing in {len(with_gaps)} tables"
        + (f" ({', '.join(with_gaps)})" if with_gaps else "")
        + f"; {twice} keys held twice"
    )
    result: dict[str, object] = {
        "start": _iso(start),
        "end": _iso(end),
        "missing": missing_total,
        "duplicate_keys": twice,
        "gaps": gaps,
        "duplicates": duplicates,
        "summary": summary,
    }
    await jobs.update(job.id, state=JobState.DONE, result=result, detail=summary)
    log.info("integrity_done", job=job.id, missing=missing_total, duplicate_keys=twice)


async def start_integrity(
    bus: Bus,
    query: Query,
    start: datetime,
    end: datetime,
    requested_by: str,
    *,
    settings: StatusSettings | None = None,
) -> Job:
    """Check every store table over (start, end] for gaps (at its cadence, up to its newest
    interval) and keys held twice; runs in this process in the background, its job returned
    at once (state running, then done with the result per table)."""
    settings = settings or StatusSettings()
    start, end = nem_time(start).replace(tzinfo=None), nem_time(end).replace(tzinfo=None)
    if end <= start:
        raise BadRequest(f"the range ends ({end:%Y-%m-%d %H:%M}) before it starts")
    if end - start > timedelta(days=settings.status_max_range_days):
        raise BadRequest(
            f"an integrity check covers at most {settings.status_max_range_days:g} days"
        )
    jobs = await Jobs.open(bus)
    job = await jobs.put(
        Job(
            id=new_job_id("integrity"),
            kind="integrity",
            target="store",
            state=JobState.RUNNING,
            total=len(TABLES),
            detail=f"checking {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}",
        )
    )
    task = asyncio.create_task(_integrity(jobs, job, query, start, end), name=f"job:{job.id}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    log.info("action_integrity", job=job.id, start=_iso(start), end=_iso(end), by=requested_by)
    return job
