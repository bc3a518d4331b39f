"""The price-alert service's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pydantic import Field, model_validator

from nemstream_contracts import SUBJECTS, feed_subjects, half_hourly
from nemstream_market import REGIONS
from nemstream_notify import NotifySettings, split
from nemstream_runtime import ServiceSettings

FRESHNESS_FEEDS = tuple(dict.fromkeys(s.feed for s in SUBJECTS.values() if s.feed))
"""The fetcher feeds whose freshness can be watched: every feed that publishes a subject."""


class AlertSettings(NotifySettings, ServiceSettings):
    """Thresholds, regions, freshness and summary settings; recipients and credentials come
    from `NotifySettings`."""

    metrics_port: int = Field(9120, description="health/metrics port (-1: none)")
    alert_regions: str = Field(",".join(REGIONS), description="regions watched, comma list")
    alert_high: float = Field(1000.0, description="$/MWh at or above which a region is high")
    alert_extreme: float = Field(10000.0, description="$/MWh at or above which it is extreme")
    alert_recover: float = Field(300.0, description="$/MWh below which a high region recovers")
    alert_max_age_s: float = Field(
        3600.0, gt=0, description="transitions of older intervals update state but send no SMS"
    )
    alerts_durable: str = Field("alerts", description="durable consumer name")
    alerts_ack_wait_s: float = Field(
        10.0,
        gt=0,
        description="seconds before the price of a process that died is redelivered (a live "
        "process extends it while it works)",
    )
    freshness_feeds: str = Field(",".join(FRESHNESS_FEEDS), description="feeds watched")
    freshness_channels: str = Field("sms,email", description="where freshness alerts go")
    stale_after_s: float = Field(900.0, gt=0, description="5-minute feed quiet this long: stale")
    stale_after_rooftop_s: float = Field(
        3600.0, gt=0, description="half-hourly feed (rooftop, pre-dispatch) quiet this long: stale"
    )
    freshness_check_s: float = Field(30.0, gt=0, description="how often freshness is checked")
    alert_daily_summary: bool = Field(False, description="mail the day's alerts after midnight")
    forecast_alerts: bool = Field(
        False,
        description="early warnings: SMS when the P5MIN (or pre-dispatch) forecast crosses the "
        "forecast thresholds, once per region and episode, and when it eases (docs/alerts.md)",
    )
    forecast_alert_high: float | None = Field(
        None,
        description="forecast $/MWh that warns of a high price (default: NEMSTREAM_ALERT_HIGH)",
    )
    forecast_alert_extreme: float | None = Field(
        None,
        description="forecast $/MWh that warns of an extreme price (default: "
        "NEMSTREAM_ALERT_EXTREME)",
    )
    forecast_alert_predispatch_h: float = Field(
        2.0,
        ge=0,
        description="hours ahead watched in pre-dispatch, beyond the P5MIN run's hour (0: P5MIN "
        "only)",
    )
    forecast_alert_ease_below: float | None = Field(
        None,
        description="a warning stays up while a run still forecasts at least this many $/MWh "
        "(below the forecast high threshold), so a forecast hovering at the threshold warns once "
        "instead of warning, easing and warning again (default: eased as soon as no run "
        "forecasts the threshold)",
    )
    forecast_alert_max_age_s: float = Field(
        600.0,
        gt=0,
        description="warnings judged longer ago than this (the run's time against the clock: "
        "a consumer catching up) update state but send no SMS",
    )
    forecast_alerts_durable: str = Field(
        "alerts-forecast", description="durable consumer name of the early warnings"
    )

    @model_validator(mode="after")
    def _ease_below_the_threshold(self) -> AlertSettings:
        ease = self.forecast_alert_ease_below
        if ease is not None and ease >= self.forecast_high:
            raise ValueError(
                f"NEMSTREAM_FORECAST_ALERT_EASE_BELOW ({ease}) must be below the forecast high "
                f"threshold ({self.forecast_high})"
            )
        return self

    @property
    def regions(self) -> list[str]:
        """Regions watched."""
        return split(self.alert_regions)

    @property
    def forecast_high(self) -> float:
        """Forecast $/MWh of a high warning."""
        return self.alert_high if self.forecast_alert_high is None else self.forecast_alert_high

    @property
    def forecast_extreme(self) -> float:
        """Forecast $/MWh of an extreme warning."""
        extreme = self.forecast_alert_extreme
        return self.alert_extreme if extreme is None else extreme

    @property
    def feeds(self) -> dict[str, str]:
        """Feeds whose freshness is watched, with the subject that shows they publish (the
        feed's first subject in the contracts)."""
        return {
            feed: feed_subjects(feed)[0].name
            for feed in split(self.freshness_feeds)
            if feed_subjects(feed)
        }

    def stale_after(self, feed: str) -> float:
        """Seconds of quiet after which a feed is stale (half-hourly feeds: rooftop PV and
        pre-dispatch, the longer setting)."""
        return self.stale_after_rooftop_s if half_hourly(feed) else self.stale_after_s
