"""Running the mailer: the SCADA consumer, the outbox flush, the registry change checks and
the test-mail worker (``control.mailer.test``) in the shared service skeleton."""

from __future__ import annotations

import asyncio

import polars as pl

from nemstream_bus import BusSettings, running_service
from nemstream_mailer._changes import registry_changes
from nemstream_mailer._control import mail_test_worker
from nemstream_mailer._mailer import DuidMailer
from nemstream_mailer.settings import MailerSettings
from nemstream_notify import MailError
from nemstream_registry import RegistryError, RegistrySettings, load_registry
from nemstream_runtime import get_logger

log = get_logger(__name__)


def current_registry(settings: MailerSettings) -> pl.DataFrame:
    """The default registry (built on first use; empty, with a warning, if it cannot be: new
    units are then not judged until it can)."""
    try:
        return load_registry(RegistrySettings(data_dir=settings.data_dir))
    except (RegistryError, OSError) as exc:
        log.warning("registry_unavailable", error=str(exc), effect="new units not judged yet")
        return pl.DataFrame(schema={"duid": pl.String()})


async def run_mailer(
    settings: MailerSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`)."""
    registry = await asyncio.to_thread(current_registry, settings)
    async with running_service("mailer", settings, bus_settings=bus_settings, stop=stop) as svc:
        mailer = DuidMailer(settings, svc.bus, registry)
        kv = await mailer.start()
        if mailer.mail.dry_run:
            log.warning("mail_dry_run_mode", reason="no NEMSTREAM_SMTP_HOST: mails are logged only")

        async def flush() -> None:
            try:
                await mailer.flush()
            except MailError as exc:
                log.error("duid_mail_failed", error=str(exc), effect="kept in the outbox, retried")

        async def check_registry() -> None:
            fresh = await asyncio.to_thread(current_registry, settings)
            if fresh.height:
                mailer.use_registry(fresh)
                try:
                    await registry_changes(kv, fresh, mailer.mail)
                except MailError as exc:
                    log.error("registry_mail_failed", error=str(exc))

        await svc.every(settings.mailer_check_s, flush, "outbox")
        await svc.every(settings.registry_check_s, check_registry, "registry", first_after=0)
        log.info("mailer_started", registry_units=registry.height)
        async with mail_test_worker(settings, svc.bus, mailer.mail).background():
            await svc.consume(mailer.loop).run()
