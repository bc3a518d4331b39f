"""Who may read and act, and how often: API keys (``Authorization: Bearer`` or ``X-API-Key``),
per-key (else per-address) rate limits from the `limits` library, moving window, in memory
(each replica limits its own share)."""

from __future__ import annotations

from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from nemstream_api.settings import ApiSettings
from nemstream_control import ApiKeys

REFUSED = Counter("nemstream_api_refused", "Requests refused", ["reason"])


class Guard:
    """Keys and limits of one API process."""

    def __init__(self, settings: ApiSettings) -> None:
        self.keys = ApiKeys.parse(settings.api_keys.get_secret_value())
        self.require_key = settings.api_require_key
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.read_limit: RateLimitItem = parse(settings.api_rate_limit)
        self.stream_limit: RateLimitItem = parse(settings.api_stream_limit)

    def _key(self, request: HTTPConnection) -> tuple[str | None, bool]:
        """The key's name, and whether a key was presented at all."""
        authorization = request.headers.get("authorization")
        x_api_key = request.headers.get("x-api-key")
        presented = bool(x_api_key) or bool(
            authorization and authorization.lower().startswith("bearer ")
        )
        return self.keys.from_headers(authorization, x_api_key), presented

    async def _limit(self, item: RateLimitItem, scope: str, identity: str) -> None:
        if not await self.limiter.hit(item, scope, identity):
            REFUSED.labels("rate_limit").inc()
            reset, _ = await self.limiter.get_window_stats(item, scope, identity)
            raise HTTPException(
                429,
                f"rate limit of {item} exceeded; try again later",
                headers={"Retry-After": str(max(1, int(reset - _now())))},
            )

    async def read(self, request: HTTPConnection, *, stream: bool = False) -> str | None:
        """Allow a read (a key when reads are private), counted against its limit; the key's
        name, if any."""
        name, presented = self._key(request)
        if presented and name is None:
            REFUSED.labels("bad_key").inc()
            raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        if name is None and self.require_key:
            REFUSED.labels("no_key").inc()
            raise HTTPException(
                401,
                "an API key is needed (Authorization: Bearer <key> or X-API-Key)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        identity = f"key:{name}" if name else f"ip:{request.client.host if request.client else '?'}"
        await self._limit(
            self.stream_limit if stream else self.read_limit,
            "stream" if stream else "read",
            identity,
        )
        return name

    async def act(self, request: HTTPConnection) -> str:
        """Allow an action: always a valid key; the key's name (jobs record it, never the key)."""
        if not self.keys:
            REFUSED.labels("actions_disabled").inc()
            raise HTTPException(403, "actions are disabled until NEMSTREAM_API_KEYS is set")
        name, _ = self._key(request)
        if name is None:
            REFUSED.labels("no_key").inc()
            raise HTTPException(
                401,
                "actions need an API key (Authorization: Bearer <key> or X-API-Key)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        await self._limit(self.read_limit, "act", f"key:{name}")
        return name


def _now() -> float:
    import time

    return time.time()
