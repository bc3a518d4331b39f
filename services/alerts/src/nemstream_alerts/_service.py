"""Running the price-alert service: the consumer, the freshness watch, the optional daily
summary, health on its port, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib

from nemstream_alerts._alerts import PriceAlerts
from nemstream_alerts._freshness import Freshness
from nemstream_alerts._summary import send_summary
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import BusSettings, connect
from nemstream_notify import MailSender, SmsSender
from nemstream_runtime import Health, get_logger, health_server, stop_on_signals

log = get_logger(__name__)


async def _watch(
    settings: AlertSettings, freshness: Freshness, alerts: PriceAlerts, mail: MailSender
) -> None:
    while True:
        try:
            await freshness.check()
            if settings.alert_daily_summary and alerts.kv is not None:
                await send_summary(alerts.bus, alerts.kv, mail)
        except Exception as exc:  # noqa: BLE001 - a failed check must not stop the service
            log.error("freshness_check_failed", error=repr(exc))
        await asyncio.sleep(settings.freshness_check_s)


async def run_alerts(
    settings: AlertSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    sms, mail = SmsSender(settings), MailSender(settings)
    if sms.dry_run:
        log.warning("sms_dry_run_mode", reason="no Twilio credentials: texts are logged only")
    bus = await connect(bus_settings or BusSettings(), name="alerts")
    alerts = PriceAlerts(settings, bus, sms)
    alerts.loop.stop = stop
    kv = await alerts.start()
    freshness = Freshness(settings, bus, kv, sms, mail)
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    health.add("consumer_bound", lambda: alerts.loop.bound)
    watcher = asyncio.create_task(_watch(settings, freshness, alerts, mail))
    log.info(
        "alerts_started",
        regions=settings.regions,
        recipients=len(settings.sms_recipients),
        dry_run=sms.dry_run,
    )
    try:
        async with health_server(health, "alerts", port=settings.metrics_port):
            await alerts.loop.run()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await bus.close()
