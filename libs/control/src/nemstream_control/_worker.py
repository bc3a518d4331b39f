"""Taking control requests: one durable pull consumer per subject on the control stream, one
request at a time, the job's state kept current, the request acknowledged only once it is
done (a worker killed mid-job has it delivered again, to itself or to a replica)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client import Counter
from pydantic import ValidationError

from nemstream_bus import Bus
from nemstream_control._jobs import Job, Jobs, JobState
from nemstream_control._requests import CONTROL_STREAM, ControlRequest, ensure_control_stream
from nemstream_runtime import get_logger

log = get_logger(__name__)

JOBS_RUN = Counter("nemstream_control_jobs", "Control requests executed", ["subject", "outcome"])

R = TypeVar("R", bound=ControlRequest)

Progress = Callable[..., Awaitable[None]]
"""``await progress(done=…, total=…, detail=…)``: update the running job."""


class JobFailed(Exception):
    """The request cannot be carried out (a bad range, nothing configured): the job fails with
    this sentence and is not retried."""


class ControlWorker(Generic[R]):
    """Executes requests of one subject with `handle(request, progress)`, whose return value
    (a dict of figures) becomes the job's result."""

    def __init__(
        self,
        bus: Bus,
        subject: str,
        durable: str,
        model: type[R],
        handle: Callable[[R, Progress], Awaitable[dict[str, object]]],
        *,
        ack_wait_s: float = 60.0,
    ) -> None:
        self.bus = bus
        self.subject = subject
        self.durable = durable
        self.model = model
        self.handle = handle
        self.ack_wait_s = ack_wait_s
        self.bound = False

    @contextlib.asynccontextmanager
    async def background(self, grace_s: float = 2.0) -> AsyncIterator[asyncio.Task[None]]:
        """Take requests in the background for the duration of a block (a service's life). On
        the way out the worker stops taking requests; one still in hand after `grace_s` is
        cancelled: it stays unacknowledged and is delivered again (to a replica, or to this
        service when it is back), never marked failed because the service stopped."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name=f"control:{self.durable}")
        try:
            yield task
        finally:
            stop.set()
            done, _ = await asyncio.wait({task}, timeout=grace_s)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, stop: asyncio.Event) -> None:
        """Take requests until `stop` is set (the subscription is dropped on the way out, so the
        connection drains at once)."""
        jobs: Jobs | None = None
        subscription: JetStreamContext.PullSubscription | None = None
        try:
            while not stop.is_set():
                try:
                    if subscription is None:
                        await ensure_control_stream(self.bus)
                        jobs = await Jobs.open(self.bus)
                        await self.bus.js.add_consumer(
                            CONTROL_STREAM,
                            ConsumerConfig(
                                durable_name=self.durable,
                                ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.ALL,
                                filter_subject=self.subject,
                                ack_wait=self.ack_wait_s,
                                max_deliver=3,
                            ),
                        )
                        subscription = await self.bus.js.pull_subscribe_bind(
                            self.durable, stream=CONTROL_STREAM
                        )
                        self.bound = True
                    try:
                        messages = await subscription.fetch(1, timeout=1.0)
                    except NatsTimeoutError:
                        continue
                    assert jobs is not None
                    for message in messages:
                        await self._execute(message, jobs)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - NATS away: wait and bind again
                    log.warning("control_worker_waiting", subject=self.subject, error=repr(exc))
                    self.bound = False
                    if subscription is not None:
                        with contextlib.suppress(Exception):
                            await subscription.unsubscribe()
                    subscription = None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 2.0)
        finally:
            self.bound = False
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _execute(self, message: Msg, jobs: Jobs) -> None:
        try:
            request = self.model.model_validate_json(message.data)
        except ValidationError as exc:
            log.error("control_request_invalid", subject=self.subject, error=str(exc)[:500])
            JOBS_RUN.labels(self.subject, "invalid").inc()
            await message.term()
            return
        bound = log.bind(subject=self.subject, job=request.job)
        if await jobs.update(request.job, state=JobState.RUNNING, detail="started") is None:
            # published without `submit` (by hand, or its job expired): record it now
            kind = self.subject.removeprefix("control.").replace(".", "_")
            await jobs.put(
                Job(id=request.job, kind=kind, target=self.durable, state=JobState.RUNNING)
            )
        bound.info("control_job_started")

        async def progress(**changes: object) -> None:
            await jobs.update(request.job, **changes)
            with contextlib.suppress(Exception):
                await message.in_progress()

        keepalive = asyncio.create_task(self._keepalive(message))
        try:
            result = await self.handle(request, progress)
        except JobFailed as exc:
            await jobs.update(request.job, state=JobState.FAILED, detail=str(exc))
            bound.warning("control_job_failed", reason=str(exc))
            JOBS_RUN.labels(self.subject, "failed").inc()
            await message.ack()
            return
        except Exception as exc:  # noqa: BLE001 - the job fails, the worker goes on
            await jobs.update(
                request.job, state=JobState.FAILED, detail=f"failed: {type(exc).__name__}: {exc}"
            )
            bound.exception("control_job_error")
            JOBS_RUN.labels(self.subject, "error").inc()
            await message.ack()
            return
        finally:
            keepalive.cancel()
        await jobs.update(
            request.job,
            state=JobState.DONE,
            result=result,
            detail=str(result.get("summary", "done")),
        )
        bound.info("control_job_done", **{k: v for k, v in result.items() if k != "summary"})
        JOBS_RUN.labels(self.subject, "done").inc()
        await message.ack()

    async def _keepalive(self, message: Msg) -> None:
        while True:
            await asyncio.sleep(self.ack_wait_s / 3)
            with contextlib.suppress(Exception):
                await message.in_progress()
