"""Settings of the NEMWeb client (environment variables ``NEMSTREAM_*``)."""

from __future__ import annotations

from pydantic import Field

from nemstream_runtime import NemstreamSettings

DEFAULT_NEMWEB_URL = "https://nemweb.com.au"
DEFAULT_USER_AGENT = (
    "nemstream/0.1 (open-source NEM market data pipeline; +https://github.com/nemstream/nemstream)"
)


class NemwebSettings(NemstreamSettings):
    """Where NEMWeb is and how politely to use it."""

    nemweb_url: str = Field(DEFAULT_NEMWEB_URL, description="NEMWeb base URL (tests: the mirror)")
    user_agent: str = Field(DEFAULT_USER_AGENT, description="User-Agent sent with every request")
    http_timeout: float = Field(30.0, gt=0, description="seconds per request (connect and read)")
    http_concurrency: int = Field(4, ge=1, description="requests in flight at once")
    http_max_bytes: int = Field(512 * 1024**2, ge=1, description="largest download accepted")
    http_retries: int = Field(4, ge=0, description="retries after a 5xx, 429, timeout or drop")
    http_backoff: float = Field(0.5, ge=0, description="first back-off in seconds (then doubles)")
    http_backoff_max: float = Field(30.0, ge=0, description="longest back-off in seconds")
