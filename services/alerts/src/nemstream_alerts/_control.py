"""Test alerts from the status page or the API (``control.alerts.test``): the request's message
as a text to every configured recipient, through the very path price alerts take (intent and
Twilio sid recorded per recipient, so a redelivered request never texts anyone twice)."""

from __future__ import annotations

from nemstream_alerts._alerts import PriceAlerts
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import Bus
from nemstream_control import ALERTS_TEST, ControlWorker, JobFailed, Progress, TestAlertRequest
from nemstream_notify import recipient_key

DURABLE = "control-alerts-test"


def alert_test_text(request: TestAlertRequest) -> str:
    """The text a test alert sends."""
    return f"🔔 nemstream test alert: {request.message}"


def alert_test_worker(
    settings: AlertSettings, bus: Bus, alerts: PriceAlerts
) -> ControlWorker[TestAlertRequest]:
    """The worker that sends test texts."""

    async def handle(request: TestAlertRequest, progress: Progress) -> dict[str, object]:
        recipients = settings.sms_recipients
        if not recipients:
            raise JobFailed("no SMS recipients are configured: set NEMSTREAM_ALERT_SMS_TO")
        text = alert_test_text(request)
        outcomes: list[str] = []
        for recipient in recipients:
            key = f"test.{request.job}.{recipient_key(recipient)}"
            outcomes.append(await alerts.send_once(key, recipient, text))
            await progress(
                done=len(outcomes),
                total=len(recipients),
                detail=f"{len(outcomes)} of {len(recipients)} recipients",
            )
        sent, failed = outcomes.count("sent"), outcomes.count("failed")
        unreachable = outcomes.count("retry")
        if not sent:
            raise JobFailed(
                f"no text went: {failed} refused by Twilio, {unreachable} with Twilio unreachable"
            )
        dry_run = alerts.sms.dry_run
        summary = (
            f"dry run (no Twilio credentials): {sent} texts logged, none sent"
            if dry_run
            else f"{sent} of {len(recipients)} texts sent"
            + (f"; {failed} refused, {unreachable} unreachable" if failed or unreachable else "")
        )
        return {
            "recipients": len(recipients),
            "sent": sent,
            "failed": failed,
            "unreachable": unreachable,
            "dry_run": dry_run,
            "summary": summary,
        }

    return ControlWorker(bus, ALERTS_TEST, DURABLE, TestAlertRequest, handle)
