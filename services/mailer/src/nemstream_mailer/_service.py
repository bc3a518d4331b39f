"""Running the mailer: the SCADA consumer, the outbox flush, registry change checks, health on
its port, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import time

import polars as pl

from nemstream_bus import BusSettings, connect
from nemstream_mailer._changes import registry_changes
from nemstream_mailer._mailer import DuidMailer
from nemstream_mailer.settings import MailerSettings
from nemstream_notify import MailError
from nemstream_registry import RegistryError, RegistrySettings, load_registry
from nemstream_runtime import Health, get_logger, health_server, stop_on_signals

log = get_logger(__name__)


def current_registry(settings: MailerSettings) -> pl.DataFrame:
    """The default registry (built on first use; empty, with a warning, if it cannot be)."""
    try:
        return load_registry(RegistrySettings(data_dir=settings.data_dir))
    except (RegistryError, OSError) as exc:
        log.warning("registry_unavailable", error=str(exc), effect="every DUID counts as new")
        return pl.DataFrame(schema={"duid": pl.String()})


async def _housekeeping(settings: MailerSettings, mailer: DuidMailer) -> None:
    checked = 0.0
    while True:
        try:
            await mailer.flush()
        except MailError as exc:
            log.error("duid_mail_failed", error=str(exc), effect="kept in the outbox, retried")
        except Exception as exc:  # noqa: BLE001 - the loop must outlive one bad round
            log.error("outbox_check_failed", error=repr(exc))
        if time.monotonic() - checked >= settings.registry_check_s:
            checked = time.monotonic()
            try:
                registry = await asyncio.to_thread(current_registry, settings)
                if registry.height:
                    mailer.use_registry(registry)
                    assert mailer.kv is not None
                    await registry_changes(mailer.kv, registry, mailer.mail)
            except MailError as exc:
                log.error("registry_mail_failed", error=str(exc))
            except Exception as exc:  # noqa: BLE001
                log.error("registry_check_failed", error=repr(exc))
        await asyncio.sleep(settings.mailer_check_s)


async def run_mailer(
    settings: MailerSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    registry = await asyncio.to_thread(current_registry, settings)
    bus = await connect(bus_settings or BusSettings(), name="mailer")
    mailer = DuidMailer(settings, bus, registry)
    mailer.loop.stop = stop
    await mailer.start()
    if mailer.mail.dry_run:
        log.warning("mail_dry_run_mode", reason="no NEMSTREAM_SMTP_HOST: mails are logged only")
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    health.add("consumer_bound", lambda: mailer.loop.bound)
    keeper = asyncio.create_task(_housekeeping(settings, mailer))
    log.info("mailer_started", registry_units=registry.height)
    try:
        async with health_server(health, "mailer", port=settings.metrics_port):
            await mailer.loop.run()
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await bus.close()
