"""Control requests and the stream they travel on."""

from __future__ import annotations

from datetime import date, timedelta

from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field, model_validator

from nemstream_bus import Bus
from nemstream_control._jobs import Job, Jobs, new_job_id

CONTROL_STREAM = "NEM_CONTROL"
CONTROL_PREFIX = "control"
ALERTS_TEST = f"{CONTROL_PREFIX}.alerts.test"
MAILER_TEST = f"{CONTROL_PREFIX}.mailer.test"


def backfill_subject(feed: str) -> str:
    """Where a feed's fetcher takes backfill requests."""
    return f"{CONTROL_PREFIX}.backfill.{feed}"


class ControlRequest(BaseModel):
    """What every request carries."""

    job: str = Field(description="the job id the worker reports progress under")
    requested_by: str = Field("", description="who asked (an API key's name, never the key)")


class BackfillRequest(ControlRequest):
    """Backfill `feed` for the trading days `start`..`end` (inclusive) from NEMWeb."""

    feed: str
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> BackfillRequest:
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.end - self.start > timedelta(days=62):
            raise ValueError("a backfill action covers at most 62 days; run `nemstream backfill`")
        return self


class TestAlertRequest(ControlRequest):
    """Send one test text (alerts) or mail (mailer) through the real path."""

    __test__ = False  # not a pytest class
    message: str = Field("nemstream test alert", max_length=300)


async def ensure_control_stream(bus: Bus) -> None:
    """Declare the control stream: work-queue retention (a request is taken once), file storage,
    kept a day at most (a request nobody took in a day is stale)."""
    config = StreamConfig(
        name=CONTROL_STREAM,
        subjects=[f"{CONTROL_PREFIX}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        max_age=timedelta(days=1).total_seconds(),
        duplicate_window=600.0,
        num_replicas=bus.settings.stream_replicas,
    )
    try:
        await bus.js.stream_info(CONTROL_STREAM)
    except NotFoundError:
        await bus.js.add_stream(config)
        return
    await bus.js.update_stream(config)


async def submit(bus: Bus, subject: str, request: ControlRequest, *, kind: str, target: str) -> Job:
    """Record the job as queued, then publish the request (its id is the message id, so a
    retried submit never queues it twice)."""
    await ensure_control_stream(bus)
    jobs = await Jobs.open(bus)
    job = await jobs.put(
        Job(id=request.job, kind=kind, target=target, detail=f"waiting for {target}")
    )
    await bus.js.publish(
        subject, request.model_dump_json().encode(), headers={"Nats-Msg-Id": request.job}
    )
    return job


__all__ = [
    "ALERTS_TEST",
    "CONTROL_PREFIX",
    "CONTROL_STREAM",
    "MAILER_TEST",
    "BackfillRequest",
    "ControlRequest",
    "TestAlertRequest",
    "backfill_subject",
    "ensure_control_stream",
    "new_job_id",
    "submit",
]
