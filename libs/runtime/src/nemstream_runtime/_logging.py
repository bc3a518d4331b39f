"""structlog set-up: JSON lines on stderr; callers bind context (feed, subject, interval)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False


def configure_logging(level: str | int = "INFO", *, json: bool = True) -> None:
    """Route structlog and stdlib logging to one stream so every line is machine-readable JSON."""
    global _configured
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s", force=True)
    _configured = True


def get_logger(name: str, **bound: Any) -> Any:
    """Return a structlog logger named after its module, with optional context already bound."""
    return structlog.get_logger(name).bind(**bound) if bound else structlog.get_logger(name)
