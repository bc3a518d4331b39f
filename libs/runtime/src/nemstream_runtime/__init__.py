"""What every nemstream process shares: structured logging and settings conventions."""

from nemstream_runtime._logging import configure_logging, get_logger
from nemstream_runtime._settings import ENV_PREFIX, NemstreamSettings

__all__ = ["ENV_PREFIX", "NemstreamSettings", "configure_logging", "get_logger"]
