"""The one crash hook of fault tests: a process told to (``NEMSTREAM_CRASH_AT=<point>``) exits
abruptly at that named point, as a SIGKILL would leave it, so tests can prove what survives.

Points: ``downloaded``, ``published`` (fetcher); ``part_written``, ``manifest_swapped`` (writer);
``sms_requested``, ``sms_recorded`` (alerts). Never set in production.
"""

from __future__ import annotations

import os

from nemstream_runtime._logging import get_logger

log = get_logger(__name__)

CRASH_ENV = "NEMSTREAM_CRASH_AT"
"""Environment variable naming the point to crash at (fault tests only)."""

CRASH_EXIT_CODE = 86
"""Exit status of an injected crash (tests tell it from a real failure)."""


def crash_point(point: str) -> None:
    """Exit at once, without clean-up, if ``NEMSTREAM_CRASH_AT`` names this point."""
    if os.environ.get(CRASH_ENV) == point:
        log.warning("fault_injection_exit", point=point)
        os._exit(CRASH_EXIT_CODE)
