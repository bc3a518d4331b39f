"""A polite async client for NEMWeb: listings, downloads, retries, limits.

NEMWeb is a public server that answers 403 to clients without a User-Agent. The client
identifies itself, caps concurrent requests, retries only what is worth retrying (5xx, 429,
timeouts, dropped connections) with exponential back-off and jitter, never downloads more than
a configured size, and asks for listings conditionally so an unchanged folder costs a 304.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx
from prometheus_client import Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from nemstream_nemweb._feeds import Area, Feed, get_feed
from nemstream_nemweb._filenames import try_parse_filename
from nemstream_nemweb._listing import ListingEntry, parse_listing
from nemstream_nemweb._settings import NemwebSettings
from nemstream_runtime import get_logger

log = get_logger(__name__)

REQUESTS = Counter("nemstream_nemweb_requests", "HTTP requests made to NEMWeb", ["kind", "outcome"])
RETRIES = Counter("nemstream_nemweb_retries", "NEMWeb requests retried", ["kind", "reason"])
DOWNLOADED = Counter("nemstream_nemweb_downloaded_bytes", "Bytes downloaded from NEMWeb")


class NemwebError(Exception):
    """Base of the client's errors: each names the URL it was about."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class NemwebHTTPError(NemwebError):
    """NEMWeb answered with an error status (after retries, for those worth retrying)."""

    def __init__(self, url: str, status: int) -> None:
        self.status = status
        super().__init__(url, f"HTTP {status}")


class NemwebUnavailable(NemwebError):
    """No answer: timeouts or connection errors outlasted the retries."""


class DownloadTooLarge(NemwebError):
    """A file bigger than the configured cap (``NEMSTREAM_HTTP_MAX_BYTES``)."""


class _Retryable(Exception):
    def __init__(self, reason: str, error: NemwebError) -> None:
        self.reason = reason
        self.error = error
        super().__init__(str(error))


@dataclass(slots=True)
class _Cached:
    etag: str | None
    last_modified: str | None
    entries: list[ListingEntry]


class NemwebClient:
    """Async NEMWeb client; use as ``async with NemwebClient() as client: ...``."""

    def __init__(
        self,
        settings: NemwebSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or NemwebSettings()
        self.base_url = self.settings.nemweb_url.rstrip("/")
        self._limit = asyncio.Semaphore(self.settings.http_concurrency)
        self._listings: dict[str, _Cached] = {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"User-Agent": self.settings.user_agent},
            timeout=httpx.Timeout(self.settings.http_timeout),
            follow_redirects=True,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def url(self, path: str) -> str:
        """Absolute URL of a NEMWeb path (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def list_feed(
        self, feed: Feed | str, area: Area | str = Area.CURRENT
    ) -> list[ListingEntry]:
        """Entries of a feed's CURRENT or ARCHIVE folder (conditional: 304 reuses the last)."""
        resolved = get_feed(feed) if isinstance(feed, str) else feed
        return await self.list_url(resolved.path(area))

    async def list_url(self, path: str) -> list[ListingEntry]:
        """Entries of any NEMWeb folder listing."""
        url = self.url(path if path.endswith("/") else f"{path}/")
        cached = self._listings.get(url)
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = await self._request("listing", url, headers)
        if response.status_code == 304 and cached is not None:
            return cached.entries
        entries = parse_listing(response.text, url)
        self._listings[url] = _Cached(
            response.headers.get("ETag"), response.headers.get("Last-Modified"), entries
        )
        return entries

    async def download(self, target: ListingEntry | str) -> bytes:
        """The bytes of a file, size-capped; retried on 5xx, timeouts and dropped transfers."""
        url = self.url(target.url if isinstance(target, ListingEntry) else target)
        async for attempt in self._retrying("download"):
            with attempt:
                return await self._download_once(url)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def download_many(
        self, targets: Iterable[ListingEntry | str]
    ) -> AsyncIterator[tuple[ListingEntry | str, bytes | NemwebError]]:
        """Download several files, at most ``http_concurrency`` at once; yields each with its
        bytes or its error as it completes (an error never stops the others)."""

        async def one(target: ListingEntry | str) -> tuple[ListingEntry | str, bytes | NemwebError]:
            try:
                return target, await self.download(target)
            except NemwebError as exc:
                return target, exc

        tasks = [asyncio.ensure_future(one(target)) for target in targets]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def _download_once(self, url: str) -> bytes:
        cap = self.settings.http_max_bytes
        async with self._limit:
            try:
                async with self._http.stream("GET", url) as response:
                    self._check_status(url, response.status_code, "download")
                    declared = response.headers.get("Content-Length")
                    if declared is not None and declared.isdigit() and int(declared) > cap:
                        REQUESTS.labels("download", "too_large").inc()
                        raise DownloadTooLarge(url, f"{declared} bytes, over the {cap}-byte cap")
                    chunks: list[bytes] = []
                    received = 0
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
                        if received > cap:
                            REQUESTS.labels("download", "too_large").inc()
                            raise DownloadTooLarge(url, f"more than the {cap}-byte cap")
                        chunks.append(chunk)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise _transport_failure("download", url, exc) from exc
        if declared is not None and declared.isdigit() and received != int(declared):
            REQUESTS.labels("download", "incomplete").inc()
            error = NemwebUnavailable(url, f"got {received} of {declared} bytes")
            raise _Retryable("incomplete", error)
        REQUESTS.labels("download", "ok").inc()
        DOWNLOADED.inc(received)
        return b"".join(chunks)

    async def _request(self, kind: str, url: str, headers: dict[str, str]) -> httpx.Response:
        async for attempt in self._retrying(kind):
            with attempt:
                async with self._limit:
                    try:
                        response = await self._http.get(url, headers=headers)
                    except (httpx.TimeoutException, httpx.TransportError) as exc:
                        raise _transport_failure(kind, url, exc) from exc
                if response.status_code != 304:
                    self._check_status(url, response.status_code, kind)
                REQUESTS.labels(kind, "ok").inc()
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_status(self, url: str, status: int, kind: str) -> None:
        if status < 400:
            return
        REQUESTS.labels(kind, f"http_{status}").inc()
        error = NemwebHTTPError(url, status)
        if status >= 500 or status == 429:
            raise _Retryable(f"http_{status}", error)
        raise error

    def _retrying(self, kind: str) -> AsyncRetrying:
        settings = self.settings

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            reason = failure.reason if isinstance(failure, _Retryable) else "unknown"
            RETRIES.labels(kind, reason).inc()
            log.warning(
                "nemweb_retry",
                kind=kind,
                url=failure.error.url if isinstance(failure, _Retryable) else None,
                reason=reason,
                attempt=state.attempt_number,
                wait_s=round(state.next_action.sleep, 3) if state.next_action else None,
            )

        def give_up(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, _Retryable):
                log.error(
                    "nemweb_gave_up",
                    kind=kind,
                    url=failure.error.url,
                    reason=failure.reason,
                    attempts=state.attempt_number,
                )
                raise failure.error from failure
            if failure is not None:
                raise failure

        return AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(settings.http_retries + 1),
            wait=wait_exponential_jitter(
                multiplier=settings.http_backoff,
                max=settings.http_backoff_max,
                jitter=settings.http_backoff,
            ),
            before_sleep=before_sleep,
            retry_error_callback=give_up,
            reraise=False,
        )


def _transport_failure(kind: str, url: str, exc: Exception) -> _Retryable:
    """A timeout or connection error, counted and wrapped to be retried."""
    REQUESTS.labels(kind, "transport_error").inc()
    reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
    return _Retryable(reason, NemwebUnavailable(url, f"{reason}: {exc!r}"))


def pick_new(
    entries: Sequence[ListingEntry],
    seen: Iterable[str],
    *,
    feed: Feed | None = None,
    since: datetime | None = None,
) -> list[ListingEntry]:
    """Files not yet seen, in publication order: folders (``DUPLICATE/``) and names that are
    not the feed's reports are skipped; `since` drops files stamped before it (NEM time)."""
    known = set(seen)
    picked: list[tuple[tuple[datetime, str], ListingEntry]] = []
    for entry in entries:
        if entry.is_dir or entry.name in known:
            continue
        parsed = try_parse_filename(entry.name)
        if parsed is None or (feed is not None and not feed.holds(parsed)):
            continue
        if since is not None and parsed.stamp < since:
            continue
        picked.append((parsed.sort_key, entry))
    return [entry for _, entry in sorted(picked, key=lambda item: item[0])]
