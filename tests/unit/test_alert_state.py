"""The price state machine, as the issue states it, and the alert texts."""

from __future__ import annotations

from datetime import datetime

import pytest

from nemstream_alerts import AlertSettings, Thresholds, alert_text, judge
from nemstream_notify import NotifySettings, mask

LIMITS = Thresholds(high=1000, extreme=10000, recover=300)


@pytest.mark.parametrize(
    ("state", "rrp", "after", "alert"),
    [
        ("normal", 99.0, "normal", None),
        ("normal", 999.99, "normal", None),
        ("normal", 1000.0, "high", "high"),  # at the threshold counts
        ("normal", 10000.0, "extreme", "extreme"),  # straight to extreme: one alert
        ("high", 1500.0, "high", None),  # persisting: no repeat
        ("high", 650.0, "high", None),  # between 300 and 1,000: hysteresis
        ("high", 300.0, "high", None),  # recovery is strictly below 300
        ("high", 299.99, "normal", "recovered"),
        ("high", -50.0, "normal", "recovered"),
        ("high", 12000.0, "extreme", "extreme"),  # escalation alerts once
        ("extreme", 15000.0, "extreme", None),
        ("extreme", 2000.0, "extreme", None),  # falls but >= 300: stays elevated, silent
        ("extreme", 400.0, "extreme", None),
        ("extreme", 120.0, "normal", "recovered"),
    ],
)
def test_transitions(state: str, rrp: float, after: str, alert: str | None) -> None:
    assert judge(state, rrp, LIMITS) == (after, alert)  # type: ignore[arg-type]


def test_a_spike_day_alerts_once_per_transition() -> None:
    prices = [50, 1200, 1300, 700, 1100, 11000, 9000, 600, 12000, 250, 280, 1000, 200]
    state, alerts = "normal", []
    for rrp in prices:
        state, alert = judge(state, rrp, LIMITS)  # type: ignore[arg-type]
        if alert:
            alerts.append((alert, rrp))
    assert alerts == [
        ("high", 1200),
        ("extreme", 11000),
        ("recovered", 250),
        ("high", 1000),
        ("recovered", 200),
    ]


def test_texts_name_region_price_time_and_state() -> None:
    at = datetime(2026, 3, 2, 18, 35)
    assert alert_text("SA1", "high", 1234.56, at) == "⚠️ HIGH PRICE SA1 $1,234.56/MWh at 18:35"
    assert alert_text("NSW1", "extreme", 15000, at) == (
        "🚨🚨🚨 EXTREME PRICE NSW1 $15,000.00/MWh at 18:35"
    )
    # negative prices as people write them (the sign before the dollar)
    assert (
        alert_text("VIC1", "recovered", -4.5, at) == "✅ Price recovered VIC1 -$4.50/MWh at 18:35"
    )
    assert (
        alert_text("SA1", "recovered", -41.31, at) == "✅ Price recovered SA1 -$41.31/MWh at 18:35"
    )


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_ALERT_SMS_TO", "+61411111111, +61422222222,")
    monkeypatch.setenv("NEMSTREAM_ALERT_REGIONS", "SA1,VIC1")
    monkeypatch.setenv("NEMSTREAM_ALERT_HIGH", "5000")
    monkeypatch.setenv("NEMSTREAM_TWILIO_AUTH_TOKEN", "secret-token")
    settings = AlertSettings()
    assert settings.sms_recipients == ["+61411111111", "+61422222222"]
    assert settings.regions == ["SA1", "VIC1"] and settings.alert_high == 5000
    assert settings.sms_dry_run  # a token alone is not enough to send
    assert "secret-token" not in repr(settings) and "secret-token" not in str(settings)
    configured = NotifySettings(twilio_account_sid="AC1", twilio_auth_token="t", twilio_from="+1")
    assert not configured.sms_dry_run
    assert mask("+61411111111") == "…111"
