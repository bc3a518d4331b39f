"""The retry policy every notification shares: exponential back-off with jitter, a bounded
number of tries, each retry logged and counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from nemstream_notify._settings import NotifySettings
from nemstream_runtime import get_logger

log = get_logger(__name__)


def retrying(
    settings: NotifySettings,
    transient: Callable[[BaseException], bool],
    counter: Counter,
    event: str,
    **context: Any,
) -> AsyncRetrying:
    """Retries of one delivery: `transient` failures only, then the last error is raised."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(event, attempt=state.attempt_number, error=repr(error), **context)
        counter.labels("retry").inc()

    return AsyncRetrying(
        retry=retry_if_exception(transient),
        stop=stop_after_attempt(settings.notify_attempts),
        wait=wait_exponential_jitter(
            multiplier=settings.notify_backoff_s,
            max=settings.notify_backoff_max_s,
            jitter=settings.notify_backoff_s,
        ),
        before_sleep=before_sleep,
        reraise=True,
    )
