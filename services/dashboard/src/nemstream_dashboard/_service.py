"""Serving the dashboard: Panel (on Tornado) at ``/``, with ``/healthz``, ``/readyz`` (the store
can be read) and ``/metrics`` on the same port, one query layer and one new-data watcher for
every session of the process, and a clean stop on SIGTERM or SIGINT."""

from __future__ import annotations

import json
import logging
import signal
from typing import Any

import panel as pn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tornado.web import RequestHandler

from nemstream_dashboard._app import create_page
from nemstream_dashboard._context import Context
from nemstream_dashboard.settings import DashboardSettings
from nemstream_runtime import get_logger

log = get_logger(__name__)


class _Health(RequestHandler):
    def initialize(self, context: Context) -> None:
        self.context = context

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"service": "dashboard", "status": "alive"}))


class _Ready(_Health):
    def get(self) -> None:
        checks = {"store_readable": self.context.settings.store_dir.is_dir()}
        ready = all(checks.values())
        self.set_status(200 if ready else 503)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"service": "dashboard", "ready": ready, "checks": checks}))


class _Metrics(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest())


def build_server(settings: DashboardSettings, *, port: int | None = None) -> tuple[Any, Context]:
    """The server (not yet started) and the context its sessions share."""
    context = Context.open(settings)
    origins = [o.strip() for o in settings.dashboard_origins.split(",") if o.strip()]
    server = pn.serve(
        {"/": lambda: create_page(context)},
        port=settings.dashboard_port if port is None else port,
        address=settings.health_host,
        websocket_origin=origins if origins != ["*"] else "*",
        show=False,
        start=False,
        title="nemstream",
        verbose=False,
        extra_patterns=[
            (r"/healthz", _Health, {"context": context}),
            (r"/readyz", _Ready, {"context": context}),
            (r"/metrics", _Metrics),
        ],
    )
    return server, context


def serve(settings: DashboardSettings) -> None:
    """Serve until SIGTERM/SIGINT."""
    server, context = build_server(settings)
    for name in ("bokeh", "tornado"):  # Bokeh adds a handler of its own: ours formats it all
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    loop = server.io_loop

    def stop(*_: object) -> None:
        loop.add_callback_from_signal(loop.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    log.info(
        "dashboard_ready",
        url=f"http://{settings.health_host.replace('0.0.0.0', '127.0.0.1')}:{server.port}/",
        store=str(settings.store_dir),
    )
    try:
        loop.start()
    finally:
        server.stop()
        context.close()
        log.info("dashboard_stopped")
