"""What every nemstream process shares: structured logging, settings conventions, signal
handling and the health/readiness/metrics port."""

from nemstream_runtime._logging import configure_logging, get_logger
from nemstream_runtime._service import (
    Health,
    ReadinessCheck,
    bound_port,
    health_app,
    health_server,
    serving,
    stop_on_signals,
)
from nemstream_runtime._settings import ENV_PREFIX, NemstreamSettings

__all__ = [
    "ENV_PREFIX",
    "Health",
    "NemstreamSettings",
    "ReadinessCheck",
    "bound_port",
    "configure_logging",
    "get_logger",
    "health_app",
    "health_server",
    "serving",
    "stop_on_signals",
]
