"""Settings that make a fetcher and its NEMWeb client quick in tests (tiny polls and back-offs)."""

from __future__ import annotations

from pathlib import Path

from nemstream_fetcher import FetcherSettings
from nemstream_mirror import RunningMirror
from nemstream_nemweb import NemwebSettings


def settings(feed: str, tmp_path: Path, **overrides: object) -> FetcherSettings:
    options: dict[str, object] = {
        "feed": feed,
        "data_dir": tmp_path / "data",
        "poll_fast_s": 0.05,
        "poll_slow_s": 0.2,
        "cadence_s": 0.5,
        "lookback_h": 24 * 365 * 20,
        "metrics_port": -1,
    }
    options.update(overrides)
    return FetcherSettings(**options)  # type: ignore[arg-type]


def nemweb(mirror: RunningMirror, **overrides: object) -> NemwebSettings:
    options: dict[str, object] = {
        "nemweb_url": mirror.url,
        "http_backoff": 0.01,
        "http_backoff_max": 0.02,
        "http_retries": 1,
        "http_timeout": 1.0,
    }
    options.update(overrides)
    return NemwebSettings(**options)  # type: ignore[arg-type]
