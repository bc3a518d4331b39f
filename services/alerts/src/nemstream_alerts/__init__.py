"""Price alerts: a state machine per region (normal → high → extreme → recovered) over the
pricing-run price, one SMS per transition through the real Twilio client, transitions on
``nem.alerts.price.v1``; early warnings from the P5MIN and pre-dispatch forecasts (one SMS per
region and episode, ``nem.alerts.forecast.v1``); data-freshness alerts, an optional daily
summary; state in NATS KV."""

from nemstream_alerts._alerts import BUCKET, PriceAlerts, RegionState, alert_id
from nemstream_alerts._control import alert_test_text, alert_test_worker
from nemstream_alerts._forecast import ForecastAlerts, forecast_alert_id
from nemstream_alerts._forecast_state import (
    ForecastLimits,
    ForecastState,
    Point,
    Transition,
    advance,
    forecast_text,
    outlook,
    with_dispatch,
    with_p5min,
    with_predispatch,
)
from nemstream_alerts._freshness import Freshness, fresh_text, stale_text
from nemstream_alerts._service import run_alerts
from nemstream_alerts._state import State, Thresholds, alert_text, judge
from nemstream_alerts._summary import day_alerts, send_summary
from nemstream_alerts.settings import AlertSettings

__all__ = [
    "BUCKET",
    "AlertSettings",
    "ForecastAlerts",
    "ForecastLimits",
    "ForecastState",
    "Freshness",
    "Point",
    "PriceAlerts",
    "RegionState",
    "State",
    "Thresholds",
    "Transition",
    "advance",
    "alert_id",
    "alert_test_text",
    "alert_test_worker",
    "alert_text",
    "day_alerts",
    "forecast_alert_id",
    "forecast_text",
    "fresh_text",
    "judge",
    "outlook",
    "run_alerts",
    "send_summary",
    "stale_text",
    "with_dispatch",
    "with_p5min",
    "with_predispatch",
]
