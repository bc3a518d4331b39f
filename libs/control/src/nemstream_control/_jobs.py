"""Jobs: what became of a control request, kept in KV so every page (and every replica of
the page) sees the same progress."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from enum import StrEnum

from nats.js.kv import KeyValue
from pydantic import BaseModel, Field

from nemstream_bus import Bus, kv_value

JOBS_BUCKET = "nemstream_jobs"
JOBS_TTL_S = 14 * 86400.0
"""Jobs are forgotten after two weeks."""


class JobState(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(BaseModel):
    """A control request's progress and outcome."""

    id: str = Field(description="job id (also the request's Nats-Msg-Id)")
    kind: str = Field(description="backfill | test_alert | test_mail | integrity")
    target: str = Field(description="what it acts on: a feed, or the service that sends")
    state: JobState = JobState.QUEUED
    done: int = Field(0, description="steps done (files for a backfill)")
    total: int | None = Field(None, description="steps in all, when known")
    detail: str = Field("", description="a sentence on what happened so far")
    result: dict[str, object] = Field(default_factory=dict, description="figures at the end")
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def finished(self) -> bool:
        """Done or failed."""
        return self.state in (JobState.DONE, JobState.FAILED)


def valid_job_id(job_id: str) -> bool:
    """Whether a text can be a job id (a KV key: letters, digits, ``-`` and ``_``)."""
    return 0 < len(job_id) <= 100 and all(
        (c.isascii() and c.isalnum()) or c in "-_" for c in job_id
    )


def new_job_id(kind: str) -> str:
    """A unique, sortable job id (KV keys allow letters, digits, ``-`` and ``_``)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{kind}-{secrets.token_hex(4)}"


class Jobs:
    """The jobs bucket."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    @classmethod
    async def open(cls, bus: Bus) -> Jobs:
        """The bucket on `bus`, created if missing."""
        return cls(await bus.kv(JOBS_BUCKET, ttl_s=JOBS_TTL_S))

    async def put(self, job: Job) -> Job:
        """Save a job (stamping its update time)."""
        job = job.model_copy(update={"updated": datetime.now(UTC)})
        await self.kv.put(job.id, job.model_dump_json().encode())
        return job

    async def get(self, job_id: str) -> Job | None:
        """A job by id, or None (also for an id that can be no job's: a client's typo or probe
        never reaches the KV request as an invalid subject)."""
        if not valid_job_id(job_id):
            return None
        value = await kv_value(self.kv, job_id)
        return Job.model_validate_json(value) if value is not None else None

    async def update(self, job_id: str, **changes: object) -> Job | None:
        """Change some fields of a saved job."""
        job = await self.get(job_id)
        if job is None:
            return None
        return await self.put(job.model_copy(update=changes))

    async def recent(self, bus: Bus, limit: int = 20) -> list[Job]:
        """The newest jobs first."""
        keys = await bus.kv_keys(JOBS_BUCKET)
        found: list[Job] = []
        for key in sorted(keys, reverse=True)[: limit * 2]:
            value = await kv_value(self.kv, key)
            if value is None:
                continue
            try:
                found.append(Job.model_validate(json.loads(value)))
            except ValueError:
                continue
        return sorted(found, key=lambda j: j.created, reverse=True)[:limit]
