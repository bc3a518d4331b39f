"""Running the price-alert service: the consumer, the early warnings (if enabled), the freshness
watch, the optional daily summary and the test-alert worker (``control.alerts.test``) in the
shared service skeleton."""

from __future__ import annotations

import asyncio

from nemstream_alerts._alerts import PriceAlerts
from nemstream_alerts._control import alert_test_worker
from nemstream_alerts._forecast import ForecastAlerts
from nemstream_alerts._freshness import Freshness
from nemstream_alerts._summary import send_summary
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import BusSettings, running_service
from nemstream_notify import MailSender, SmsSender
from nemstream_runtime import get_logger

log = get_logger(__name__)


async def run_alerts(
    settings: AlertSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`)."""
    sms, mail = SmsSender(settings), MailSender(settings)
    if sms.dry_run:
        log.warning("sms_dry_run_mode", reason="no Twilio credentials: texts are logged only")
    async with running_service("alerts", settings, bus_settings=bus_settings, stop=stop) as svc:
        alerts = PriceAlerts(settings, svc.bus, sms)
        kv = await alerts.start()
        freshness = Freshness(settings, svc.bus, kv, sms, mail)

        async def watch() -> None:
            await freshness.check()
            if settings.alert_daily_summary:
                await send_summary(svc.bus, kv, mail)

        await svc.every(settings.freshness_check_s, watch, "freshness", first_after=0)
        log.info(
            "alerts_started",
            regions=settings.regions,
            recipients=len(settings.sms_recipients),
            dry_run=sms.dry_run,
            forecast_alerts=settings.forecast_alerts,
        )
        async with alert_test_worker(settings, svc.bus, alerts).background():
            if not settings.forecast_alerts:
                await svc.consume(alerts.loop).run()
                return
            forecasts = ForecastAlerts(settings, svc.bus, sms)
            forecasts.kv = kv
            async with asyncio.TaskGroup() as loops:
                loops.create_task(svc.consume(alerts.loop).run())
                loops.create_task(svc.consume(forecasts.loop).run())
