"""Who may read and act, and how often: API keys (``Authorization: Bearer`` or ``X-API-Key``),
per-key (else per-address) rate limits from the `limits` library, moving window, in memory
(each replica limits its own share)."""

from __future__ import annotations

import time

from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from nemstream_api.settings import ApiSettings
from nemstream_control import ApiKeys, KeyRefused

REFUSED = Counter("nemstream_api_refused", "Requests refused", ["reason"])


class Guard:
    """Keys and limits of one API process."""

    def __init__(self, settings: ApiSettings) -> None:
        self.keys = ApiKeys.parse(settings.api_keys.get_secret_value())
        self.require_key = settings.api_require_key
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.read_limit: RateLimitItem = parse(settings.api_rate_limit)
        self.stream_limit: RateLimitItem = parse(settings.api_stream_limit)

    def _who(self, request: HTTPConnection, *, act: bool = False) -> str | None:
        """The key's name (None: anonymous); HTTP 401/403 as `ApiKeys` decides."""
        headers = request.headers
        try:
            if act:
                return self.keys.actor(headers.get("authorization"), headers.get("x-api-key"))
            return self.keys.reader(
                headers.get("authorization"), headers.get("x-api-key"), required=self.require_key
            )
        except KeyRefused as refused:
            REFUSED.labels(refused.reason).inc()
            challenge = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
            raise HTTPException(refused.status, refused.detail, headers=challenge) from None

    async def _limit(self, item: RateLimitItem, scope: str, identity: str) -> None:
        if not await self.limiter.hit(item, scope, identity):
            REFUSED.labels("rate_limit").inc()
            reset, _ = await self.limiter.get_window_stats(item, scope, identity)
            raise HTTPException(
                429,
                f"rate limit of {item} exceeded; try again later",
                headers={"Retry-After": str(max(1, int(reset - time.time())))},
            )

    async def read(self, request: HTTPConnection, *, stream: bool = False) -> str | None:
        """Allow a read (a key when reads are private), counted against its limit; the key's
        name, if any."""
        name = self._who(request)
        identity = f"key:{name}" if name else f"ip:{request.client.host if request.client else '?'}"
        await self._limit(
            self.stream_limit if stream else self.read_limit,
            "stream" if stream else "read",
            identity,
        )
        return name

    async def act(self, request: HTTPConnection) -> str:
        """Allow an action: always a valid key; the key's name (jobs record it, never the key)."""
        name = self._who(request, act=True)
        assert name is not None
        await self._limit(self.read_limit, "act", f"key:{name}")
        return name
