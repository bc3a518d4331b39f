"""What every nemstream process shares: structured logging, settings conventions, signal
handling, the health/readiness/metrics port, and the crash hook of fault tests."""

from nemstream_runtime._faults import CRASH_ENV, CRASH_EXIT_CODE, crash_point
from nemstream_runtime._jobs import periodic, repeat
from nemstream_runtime._logging import LOG_FORMAT_ENV, configure_logging, get_logger, log_format
from nemstream_runtime._service import (
    Health,
    ReadinessCheck,
    bound_port,
    health_app,
    health_server,
    serving,
    stop_on_signals,
)
from nemstream_runtime._settings import (
    ENV_PREFIX,
    NemstreamSettings,
    ServiceSettings,
    load_settings,
)

__all__ = [
    "CRASH_ENV",
    "CRASH_EXIT_CODE",
    "ENV_PREFIX",
    "LOG_FORMAT_ENV",
    "Health",
    "NemstreamSettings",
    "ReadinessCheck",
    "ServiceSettings",
    "bound_port",
    "configure_logging",
    "crash_point",
    "get_logger",
    "health_app",
    "health_server",
    "load_settings",
    "log_format",
    "periodic",
    "repeat",
    "serving",
    "stop_on_signals",
]
