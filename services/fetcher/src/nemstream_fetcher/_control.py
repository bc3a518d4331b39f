"""Backfill requests from the status page or the API: each fetcher takes those of its own feed
(``control.backfill.<feed>``) and runs the backfill code on them, with the job's progress kept
current file by file. A requested range is published again even if a backfill of it finished
before (``force``): the operator asks because the store still lacks it, and the writer drops
what it already holds."""

from __future__ import annotations

import time

from nemstream_bus import Bus
from nemstream_control import (
    BackfillRequest,
    ControlWorker,
    JobFailed,
    Progress,
    backfill_subject,
)
from nemstream_fetcher._backfill import BackfillResult, backfill
from nemstream_nemweb import NemwebClient
from nemstream_runtime import get_logger

log = get_logger(__name__)

PROGRESS_EVERY_S = 0.5
"""A job's progress is written at most this often (and at the end of every file)."""

FAILED_LISTED = 20
"""Failed files named in a job's result at most."""


def durable_for(feed: str) -> str:
    """The control consumer of a feed's fetchers (replicas share it: one takes a request)."""
    return f"control-backfill-{feed}"


def _detail(done: int, total: int, result: BackfillResult) -> str:
    return (
        f"{done} of {total} files, {len(result.intervals)} intervals, "
        f"{result.events} events ({result.stored} new)"
    )


def backfill_worker(feed: str, bus: Bus, client: NemwebClient) -> ControlWorker[BackfillRequest]:
    """The worker that executes a feed's backfill requests."""

    async def handle(request: BackfillRequest, progress: Progress) -> dict[str, object]:
        if request.feed != feed:
            raise JobFailed(f"the {feed} fetcher got a request for feed {request.feed}")
        written = 0.0

        async def on_progress(done: int, total: int, result: BackfillResult) -> None:
            nonlocal written
            if done < total and time.monotonic() - written < PROGRESS_EVERY_S:
                return
            written = time.monotonic()
            await progress(done=done, total=total, detail=_detail(done, total, result))

        log.info(
            "control_backfill",
            feed=feed,
            start=request.start.isoformat(),
            end=request.end.isoformat(),
            requested_by=request.requested_by,
        )
        result = await backfill(
            bus,
            client,
            feed,
            request.start,
            request.end,
            progress=False,
            force=True,
            on_progress=on_progress,
        )
        span = f"{request.start:%Y-%m-%d} to {request.end:%Y-%m-%d}"
        if not result.files and not result.failed and not result.skipped:
            raise JobFailed(f"NEMWeb lists no {feed} files for {span} (ARCHIVE or CURRENT)")
        if result.failed and not result.files:
            raise JobFailed(
                f"every {feed} file for {span} failed ({len(result.failed)}): "
                + ", ".join(result.failed[:3])
            )
        return {
            "files": result.files,
            "intervals": len(result.intervals),
            "events": result.events,
            "stored": result.stored,
            "failed": result.failed[:FAILED_LISTED],
            "rejected": len(result.rejected),
            "summary": result.summary(),
        }

    return ControlWorker(bus, backfill_subject(feed), durable_for(feed), BackfillRequest, handle)
