"""Price alerts: a state machine per region (normal → high → extreme → recovered) over the
pricing-run price, one SMS per transition through the real Twilio client, transitions on
``nem.alerts.price.v1``, data-freshness alerts, an optional daily summary; state in NATS KV."""

from nemstream_alerts._alerts import BUCKET, PriceAlerts, RegionState, alert_id
from nemstream_alerts._control import alert_test_text, alert_test_worker
from nemstream_alerts._freshness import Freshness, fresh_text, stale_text
from nemstream_alerts._service import run_alerts
from nemstream_alerts._state import Thresholds, alert_text, judge
from nemstream_alerts._summary import day_alerts, send_summary
from nemstream_alerts.settings import AlertSettings

__all__ = [
    "BUCKET",
    "AlertSettings",
    "Freshness",
    "PriceAlerts",
    "RegionState",
    "Thresholds",
    "alert_id",
    "alert_test_text",
    "alert_test_worker",
    "alert_text",
    "day_alerts",
    "fresh_text",
    "judge",
    "run_alerts",
    "send_summary",
    "stale_text",
]
