"""The status page's HTTP app: the page, its data (``/status.json``), jobs, the actions behind
an API key, and ``/healthz``, ``/readyz``, ``/metrics`` like every service.

Actions need a key configured in ``NEMSTREAM_API_KEYS`` and presented as ``Authorization:
Bearer <key>`` (or ``X-API-Key``): none configured answers 403 (actions disabled), a missing or
wrong key 401. Every error is JSON ``{"detail": ...}``; an unexpected one is a 500 with a
request id, its traceback only in the log.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field

from nemstream_bus import Bus
from nemstream_control import ApiKeys, Jobs, KeyRefused
from nemstream_query import Query
from nemstream_runtime import get_logger
from nemstream_status._actions import (
    DEFAULT_TEST_MESSAGE,
    send_test_alert,
    start_backfill,
    start_integrity,
)
from nemstream_status._collector import BadRequest, StatusCollector, day_range
from nemstream_status._page import render_page
from nemstream_status.settings import StatusSettings

log = get_logger(__name__)

ACTIONS = Counter("nemstream_status_actions", "Actions asked for", ["action", "outcome"])

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class DaysBody(BaseModel):
    """Trading days, inclusive (NEM time)."""

    start: date
    end: date


class BackfillBody(DaysBody):
    """A feed and the trading days to backfill."""

    feed: str = Field(max_length=40)


class TestAlertBody(BaseModel):
    """The text of a test alert."""

    __test__ = False  # not a pytest class
    message: str = Field(DEFAULT_TEST_MESSAGE, max_length=300)


def caller(request: Request) -> str:
    """The name of the key presented (403: no keys configured; 401: missing or wrong)."""
    keys: ApiKeys = request.app.state.keys
    try:
        return keys.actor(request.headers.get("authorization"), request.headers.get("x-api-key"))
    except KeyRefused as refused:
        ACTIONS.labels(request.url.path.rsplit("/", 1)[-1].replace("-", "_"), "refused").inc()
        log.warning("action_refused", path=request.url.path, reason=refused.detail)
        challenge = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
        raise HTTPException(refused.status, refused.detail, headers=challenge) from None


Caller = Annotated[str, Depends(caller)]
"""An action's caller: the name of a valid key."""


def create_app(
    settings: StatusSettings,
    bus: Bus,
    query: Query,
    *,
    collector: StatusCollector | None = None,
) -> FastAPI:
    """The app over one bus and one store (`collector`: a shared one, else its own)."""
    collector = collector or StatusCollector(bus, query, settings)
    app = FastAPI(title="nemstream status", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.collector = collector
    app.state.keys = settings.keys

    @app.middleware("http")
    async def guarded(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A request id on every answer; no traceback ever reaches a client."""
        request_id = request.headers.get("x-request-id", "")[:64] or secrets.token_hex(8)
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request_failed", request_id=request_id, path=request.url.path)
            response = JSONResponse(
                {"detail": "internal error", "request_id": request_id}, status_code=500
            )
        response.headers["X-Request-Id"] = request_id
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def days(start: date | None, end: date | None) -> tuple[date, date]:
        first, last = collector.default_days()
        return start or first, end or last

    @app.get("/", response_class=HTMLResponse)
    async def page(start: date | None = None, end: date | None = None) -> HTMLResponse:
        first, last = days(start, end)
        error = None
        try:
            report = await collector.report(*day_range(first, last))
        except BadRequest as exc:
            error = f"{exc}: showing the default range instead"
            first, last = collector.default_days()
            report = await collector.report(*day_range(first, last))
        return HTMLResponse(render_page(report, first, last, error=error))

    @app.get("/status.json")
    async def status(start: date | None = None, end: date | None = None) -> dict[str, Any]:
        first, last = days(start, end)
        report = await collector.report(*day_range(first, last))
        return report.model_dump(mode="json")

    @app.get("/jobs")
    async def recent_jobs(limit: int = 20) -> dict[str, Any]:
        jobs = await (await Jobs.open(bus)).recent(bus, max(1, min(limit, 100)))
        return {"jobs": [j.model_dump(mode="json") for j in jobs]}

    @app.get("/jobs/{job_id}")
    async def job(job_id: str) -> dict[str, Any]:
        found = await (await Jobs.open(bus)).get(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return found.model_dump(mode="json")

    @app.post("/actions/integrity", status_code=202)
    async def integrity(body: DaysBody, who: Caller) -> dict[str, Any]:
        start, end = collector.check_range(*day_range(body.start, body.end))
        found = await start_integrity(bus, query, start, end, who, settings=settings)
        ACTIONS.labels("integrity", "accepted").inc()
        return found.model_dump(mode="json")

    @app.post("/actions/backfill", status_code=202)
    async def backfill(body: BackfillBody, who: Caller) -> dict[str, Any]:
        found = await start_backfill(bus, body.feed, body.start, body.end, who)
        ACTIONS.labels("backfill", "accepted").inc()
        return found.model_dump(mode="json")

    @app.post("/actions/test-alert", status_code=202)
    async def test_alert(body: TestAlertBody, who: Caller) -> dict[str, Any]:
        jobs = await send_test_alert(bus, who, body.message)
        ACTIONS.labels("test_alert", "accepted").inc()
        return {"jobs": [j.model_dump(mode="json") for j in jobs]}

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"service": "status", "status": "alive"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = {"nats_connected": bus.connected}
        ready = all(checks.values())
        return JSONResponse(
            {"service": "status", "ready": ready, "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
