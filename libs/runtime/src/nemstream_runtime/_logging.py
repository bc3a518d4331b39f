"""structlog set-up, following structlog's own convention: a readable console renderer when
stderr is a terminal (a person running ``make run``), JSON lines otherwise (containers, log
shippers, pipes); ``NEMSTREAM_LOG_FORMAT=json|console`` forces either. Callers bind context
(feed, subject, interval)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

QUIET_LOGGERS = {
    "httpx": logging.WARNING,  # one INFO line per HTTP request
    "httpcore": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "asyncio": logging.WARNING,
    "nats.js.kv": logging.ERROR,  # warns on every KV listing about servers older than 2.10
    "twilio.http_client": logging.WARNING,  # request and response headers at INFO
    "mail.log": logging.WARNING,  # aiosmtpd (tests) logs every session
    "tornado.access": logging.WARNING,  # the dashboard's every request and websocket
    "bokeh": logging.WARNING,  # the dashboard server's session chatter
    "markdown_it": logging.INFO,  # every parsing rule of every Markdown pane at DEBUG
}
"""Libraries whose chatter would drown the service's own lines, and the level they start at."""

LOG_FORMAT_ENV = "NEMSTREAM_LOG_FORMAT"
LOG_FORMATS = ("json", "console")


def log_format(given: str | None = None) -> str:
    """The format to log in: `given`, else ``$NEMSTREAM_LOG_FORMAT``, else ``console`` on a
    terminal and ``json`` anywhere else. An unknown name falls back to that automatic choice."""
    choice = (given or os.environ.get(LOG_FORMAT_ENV, "")).strip().lower()
    if choice in LOG_FORMATS:
        return choice
    if choice:
        print(
            f"{LOG_FORMAT_ENV}={choice!r} is not one of {', '.join(LOG_FORMATS)}: choosing "
            "by terminal",
            file=sys.stderr,
        )
    return "console" if sys.stderr.isatty() else "json"


def configure_logging(level: str | int | None = None, *, format: str | None = None) -> None:
    """Route structlog and stdlib logging to stderr (level: given, else ``$NEMSTREAM_LOG_LEVEL``,
    else INFO; format: see `log_format`)."""
    level = level if level is not None else os.environ.get("NEMSTREAM_LOG_LEVEL", "INFO")
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format(format) == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(numeric, floor))


def get_logger(name: str, **bound: Any) -> Any:
    """Return a structlog logger named after its module, with optional context already bound."""
    return structlog.get_logger(name).bind(**bound) if bound else structlog.get_logger(name)
