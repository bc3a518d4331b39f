"""The FastAPI application: history, latest, live, status and actions under ``/v1``, the
service endpoints every nemstream service has (``/healthz``, ``/readyz``, ``/metrics``), CORS,
metrics per route, and no stack trace ever sent to a client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from cachetools import LRUCache
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nemstream_api import (
    _latest,
    _routes_emissions,
    _routes_forecasts,
    _routes_grid,
    _routes_market,
    _routes_units,
    _stream,
)
from nemstream_api._history import History
from nemstream_api._live import Hub
from nemstream_api._params import Limits
from nemstream_api._respond import Prepared
from nemstream_api._security import Guard
from nemstream_api.settings import ApiSettings
from nemstream_query import Query
from nemstream_runtime import Health, get_logger

log = get_logger(__name__)

REQUESTS = Counter("nemstream_api_requests", "HTTP requests answered", ["route", "status"])
SECONDS = Histogram(
    "nemstream_api_request_seconds",
    "Time to answer (to the first byte of a stream)",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
VERSION = "1.0.0"


def _description(settings: ApiSettings) -> str:
    return f"""
History from the nemstream store and live events from its NATS JetStream bus.

**Time.** Every row has `interval_start` and `interval_end` in ISO 8601 with `+10:00`: NEM time,
which has no daylight saving. `start`/`end` without an offset are NEM time. A range is
interval-ending: (start, end].

**Missing data is never silent.** An interval with no data is a row whose measures are `null`
and whose `intervals` is 0; `complete` says whether a row has every 5-minute value of its period.

**Aggregation.** MW measures are means over the row's period, MWh sums, prices time-weighted
means of the 5-minute prices.

**Limits.** Longest span per resolution: {settings.api_max_days_5min:g} days at `5min`,
{settings.api_max_days_30min:g} days at `30min`, {settings.api_max_days_day:g} days at `day`
(a quarter of these for `/v1/generation?by=unit`). JSON pages hold at most
{settings.api_page_size:,} rows (follow `next`); CSV and parquet return the whole range,
streamed. Rate limit: {settings.api_rate_limit} per key, or per address without one
(429 with `Retry-After`); {settings.api_stream_limit} new live connections.

**Keys.** `Authorization: Bearer <key>` or `X-API-Key: <key>`. Reads are
{"private: they need a key" if settings.api_require_key else "public"}; actions always need one.

**Caching.** Answers carry an `ETag` (from the stored tables' versions) and `Cache-Control`;
send `If-None-Match` to get a 304.
"""


def create_app(
    settings: ApiSettings,
    store: Query,
    hub: Hub,
    health: Health,
    *,
    extra: Callable[[FastAPI, Guard], None] | None = None,
) -> FastAPI:
    """The application over one store and one hub (`extra` adds the status and action routes)."""
    app = FastAPI(
        title="nemstream API",
        version=VERSION,
        description=_description(settings),
        openapi_tags=[
            {"name": "history", "description": "rows from the store"},
            {"name": "latest", "description": "the newest interval, from the bus"},
            {"name": "live", "description": "Server-Sent Events and WebSocket"},
            {"name": "status", "description": "is data flowing; actions that repair it"},
            {"name": "service", "description": "health and metrics"},
        ],
    )
    guard = Guard(settings)
    history = History(
        store,
        guard,
        settings,
        Limits(settings.api_max_days_5min, settings.api_max_days_30min, settings.api_max_days_day),
        LRUCache(maxsize=256),
        LRUCache(maxsize=settings.api_answer_cache_mb * 1024 * 1024, getsizeof=_size),
    )
    app.state.guard = guard
    app.state.history = history
    app.include_router(_latest.router(hub, history))
    for routes in (
        _routes_market,
        _routes_grid,
        _routes_units,
        _routes_forecasts,
        _routes_emissions,
    ):
        app.include_router(routes.router(history))
    app.include_router(_stream.router(hub, guard, settings))
    if extra is not None:
        extra(app, guard)

    @app.get("/healthz", tags=["service"], summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"service": "api", "status": "alive"}

    @app.get(
        "/readyz",
        tags=["service"],
        summary="Ready: NATS connected, live stream subscribed, store readable",
        responses={503: {"description": "not ready; `checks` says what is missing"}},
    )
    async def readyz() -> Response:
        checks = health.status()
        ready = all(checks.values())
        return JSONResponse(
            {"service": "api", "ready": ready, "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.error(
            "api_request_failed",
            incident=incident,
            path=request.url.path,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc,
        )
        return JSONResponse(
            {"detail": f"internal error; the server logged it as incident {incident}"},
            status_code=500,
        )

    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Last-Event-ID", "If-None-Match"],
            expose_headers=["ETag", "Link", "Retry-After"],
        )

    app.add_middleware(Measured)
    return app


def _size(prepared: Prepared) -> int:
    """Bytes an answer holds in the answer cache."""
    return len(prepared.body) if isinstance(prepared.body, bytes) else 0


class Measured:
    """Pure ASGI middleware (streams pass through untouched): requests counted and timed per
    route template, to the response's first byte. The template is the route the router matched
    (``scope["route"]``, set by the routing itself: no second matching)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        began = time.perf_counter()
        status = "500"

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
                SECONDS.labels(_route(scope)).observe(time.perf_counter() - began)
            await send(message)

        try:
            await self.inner(scope, receive, sending)
        finally:
            REQUESTS.labels(_route(scope), status).inc()


def _route(scope: Scope) -> str:
    """The route template a request matched (bounded metric labels), or ``other``."""
    return str(getattr(scope.get("route"), "path", "other"))
