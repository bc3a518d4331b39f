"""Status and actions for other systems: ``GET /v1/status`` (the status page's report),
``GET /v1/jobs/{id}``, and ``POST /v1/actions/{integrity,backfill,test-alert}`` behind an API
key (the same collector and actions as `nemstream status`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from nemstream_api._models import Problem, ValidationProblem
from nemstream_api._security import Guard
from nemstream_bus import Service
from nemstream_control import Job, Jobs
from nemstream_query import Query as Store
from nemstream_status import (
    DEFAULT_TEST_MESSAGE,
    BadRequest,
    StatusCollector,
    StatusReport,
    StatusSettings,
    day_range,
    send_test_alert,
    start_backfill,
    start_integrity,
)

ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the request cannot be carried out as asked"},
    401: {"model": Problem, "description": "an API key is needed, or it is not valid"},
    403: {"model": Problem, "description": "actions are disabled (no NEMSTREAM_API_KEYS)"},
    422: {"model": ValidationProblem, "description": "a field is not valid"},
    429: {"model": Problem, "description": "rate limit exceeded"},
}


class Days(BaseModel):
    """Trading days, inclusive (NEM time)."""

    start: date = Field(description="first trading day")
    end: date = Field(description="last trading day")


class BackfillAction(Days):
    """A feed and the trading days to backfill from NEMWeb."""

    feed: str = Field(max_length=40, description="dispatch | trading | scada | rooftop")


class TestAlertAction(BaseModel):
    """A test text and mail through the alert services' real paths."""

    __test__ = False  # not a pytest class
    message: str = Field(DEFAULT_TEST_MESSAGE, max_length=300)


class Jobs_(BaseModel):
    """Jobs started by one action."""

    jobs: list[Job]


def status_routes(app: FastAPI, guard: Guard, service: Service, store: Store) -> None:
    """Add the status and action routes over the running service's bus and the store."""
    bus = service.bus
    collector = StatusCollector(bus, store, StatusSettings())
    api = APIRouter(tags=["status"])

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @api.get(
        "/v1/status",
        summary="Is data flowing: feeds, consumers, services, store tables and their gaps",
        response_model=StatusReport,
        responses={k: v for k, v in ACTION_ERRORS.items() if k in (400, 401, 422, 429)},
    )
    async def status(
        request: Request,
        start: Annotated[
            date | None, Query(description="first trading day of the gap check")
        ] = None,
        end: Annotated[date | None, Query(description="last trading day of the gap check")] = None,
    ) -> Any:
        """Green / amber / red per feed (5-minute feeds: amber after 10 min quiet, red after
        30; rooftop PV: 45 and 90), JetStream's pending and redelivered counts per consumer,
        each service's readiness, and per store table its rows, newest interval and gaps."""
        await guard.read(request)
        first, last = collector.default_days()
        report = await collector.report(*day_range(start or first, end or last))
        return report.model_dump(mode="json")

    @api.get(
        "/v1/jobs/{job_id}",
        summary="A job started by an action: its state and progress",
        response_model=Job,
        responses={404: {"model": Problem}, 401: ACTION_ERRORS[401], 429: ACTION_ERRORS[429]},
    )
    async def job(request: Request, job_id: str) -> Any:
        """Queued, running (with files done of total for a backfill), done or failed."""
        await guard.read(request)
        found = await (await Jobs.open(bus)).get(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return found.model_dump(mode="json")

    @api.post(
        "/v1/actions/integrity",
        status_code=202,
        summary="Check the store for gaps and duplicate keys over trading days",
        response_model=Job,
        responses=ACTION_ERRORS,
    )
    async def integrity(request: Request, body: Days) -> Any:
        """Starts a job; follow it at ``/v1/jobs/{id}``."""
        who = await guard.act(request)
        start, end = collector.check_range(*day_range(body.start, body.end))
        found = await start_integrity(bus, store, start, end, who, settings=collector.settings)
        return found.model_dump(mode="json")

    @api.post(
        "/v1/actions/backfill",
        status_code=202,
        summary="Backfill a feed's trading days from NEMWeb (executed by that feed's fetcher)",
        response_model=Job,
        responses=ACTION_ERRORS,
    )
    async def backfill(request: Request, body: BackfillAction) -> Any:
        """Published on the control stream; the feed's fetcher runs the backfill and reports
        progress in the job."""
        who = await guard.act(request)
        found = await start_backfill(bus, body.feed, body.start, body.end, who)
        return found.model_dump(mode="json")

    @api.post(
        "/v1/actions/test-alert",
        status_code=202,
        summary="Send a test SMS and mail through the alert services",
        response_model=Jobs_,
        responses=ACTION_ERRORS,
    )
    async def test_alert(request: Request, body: TestAlertAction) -> Any:
        """One job for the SMS (alerts service) and one for the mail (mailer)."""
        who = await guard.act(request)
        jobs = await send_test_alert(bus, who, body.message)
        return {"jobs": [j.model_dump(mode="json") for j in jobs]}

    app.include_router(api)
