"""The DUID discovery mailer with a real nats-server and a real SMTP server (aiosmtpd): the real
September 2021 SCADA interval against the real unit registry, with some of its units removed
from the registry so they count as new (said where it is done)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import polars as pl
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from nemstream_bus import Bus
from nemstream_contracts import REGISTRY_DUID, NewDuid
from nemstream_fetcher import Event, report_events
from nemstream_mailer import DuidMailer, MailerSettings, kv_key, registry_changes
from nemstream_mms import iter_reports
from nemstream_notify import MailError, MailSender
from nemstream_registry import build_registry
from nemstream_testing import SampleSet, names, publish_all, run_until_drained, stream_messages
from nemstream_testing.smtp import Inbox, running_smtp

SCADA = names.SCADA
LIST = names.REGISTRATION_LIST
REMOVED = ["BW01", "HDWF1", "LKBONNY2"]  # taken out of the registry so that they are new


def scada_events(samples: SampleSet) -> list[Event]:
    return [e for r in iter_reports(samples.path(SCADA)) for e in report_events("scada", r)]


@pytest.fixture(scope="module")
def full_registry(samples: SampleSet) -> pl.DataFrame:
    registry, _ = build_registry([samples.path(LIST)])
    return registry


@pytest.fixture
def registry(full_registry: pl.DataFrame) -> pl.DataFrame:
    return full_registry.filter(~pl.col("duid").is_in(REMOVED))


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_smtp() as running:
        yield running


def settings_for(inbox: Inbox, **overrides: object) -> MailerSettings:
    options: dict[str, object] = {
        "smtp_host": inbox.host,
        "smtp_port": inbox.port,
        "smtp_tls": "none",
        "smtp_user": None,
        "smtp_password": "never-logged",
        "mail_from": "nemstream@example.org",
        "alert_email_to": "ops@example.org,analyst@example.org",
        "mailer_window_s": 0,
        "notify_backoff_s": 0.05,
        "notify_backoff_max_s": 0.1,
        "metrics_port": -1,
    }
    options.update(overrides)
    return MailerSettings(**options)  # type: ignore[arg-type]


def expected_new(samples: SampleSet, registry: pl.DataFrame) -> list[str]:
    (event,) = scada_events(samples)
    known = set(registry["duid"])
    return sorted({r.duid for r in event.message.rows if r.duid not in known})  # type: ignore[attr-defined]


@pytest.fixture
async def mailer(bus: Bus, inbox: Inbox, registry: pl.DataFrame) -> AsyncIterator[DuidMailer]:
    running = DuidMailer(settings_for(inbox), bus, registry)
    await running.start()
    yield running


async def test_new_duids_are_mailed_once_in_one_batch(
    samples: SampleSet, bus: Bus, inbox: Inbox, mailer: DuidMailer, registry: pl.DataFrame
) -> None:
    await publish_all(bus, scada_events(samples))
    await run_until_drained(bus, mailer.loop)
    new = expected_new(samples, registry)
    assert set(REMOVED) <= set(new)  # the removed units, and any the 2026 list no longer has
    with capture_logs() as logs:
        assert await mailer.flush() == new
    (mail,) = inbox.messages
    assert inbox.envelopes == [
        ("nemstream@example.org", ["ops@example.org", "analyst@example.org"])
    ]
    assert mail["Subject"] == f"New NEM generating units: {', '.join(new)}"
    body = mail.get_content()
    for duid in new:
        assert f"\n{duid:<12} 2021-09-02 12:55" in body
    (event,) = scada_events(samples)
    hornsdale = next(r.scadavalue for r in event.message.rows if r.duid == "HDWF1")  # type: ignore[attr-defined]
    assert f"{hornsdale:>9.2f}" in body
    assert "never-logged" not in str(logs)
    announced = [
        NewDuid.model_validate(m.body) for m in await stream_messages(bus, subject=REGISTRY_DUID)
    ]
    assert sorted(a.duid for a in announced) == new and not any(a.in_registry for a in announced)
    # the same interval again (a replay, a redelivery): nothing new, no mail
    await publish_all(bus, scada_events(samples), id_prefix="replay:")
    await run_until_drained(bus, DuidMailer(settings_for(inbox), bus, registry).loop)
    assert await mailer.flush() == [] and len(inbox.messages) == 1


@pytest.mark.faults
async def test_two_replicas_announce_each_duid_once(
    samples: SampleSet, bus: Bus, inbox: Inbox, registry: pl.DataFrame
) -> None:
    await publish_all(bus, scada_events(samples))
    # worst case: each replica has its own consumer and sees every message
    one = DuidMailer(settings_for(inbox, mailer_durable="mailer-a"), bus, registry)
    two = DuidMailer(settings_for(inbox, mailer_durable="mailer-b"), bus, registry)
    await asyncio.gather(run_until_drained(bus, one.loop), run_until_drained(bus, two.loop))
    results = await asyncio.gather(one.flush(), two.flush())
    assert sorted(results, key=len) == [[], expected_new(samples, registry)]
    assert len(inbox.messages) == 1
    announced = await stream_messages(bus, subject=REGISTRY_DUID)
    assert len(announced) == len(expected_new(samples, registry))


@pytest.mark.faults
async def test_mail_survives_smtp_failures_and_restarts(
    samples: SampleSet, bus: Bus, inbox: Inbox, registry: pl.DataFrame
) -> None:
    await publish_all(bus, scada_events(samples))
    first = DuidMailer(settings_for(inbox, mailer_window_s=3600), bus, registry)
    await run_until_drained(bus, first.loop)
    assert await first.flush() == []  # inside the batching window: waits
    inbox.refuse = 2  # 451 twice: retried with back-off
    second = DuidMailer(settings_for(inbox), bus, registry)  # a new process, same KV outbox
    assert await second.flush() == expected_new(samples, registry)
    assert len(inbox.messages) == 1
    # a server that refuses for good keeps the mail in the outbox
    outbox_key = f"outbox.{kv_key('NEWUNIT1')}"
    assert second.kv is not None
    await second.kv.put(
        outbox_key,
        b'{"duid": "NEWUNIT1", "interval": "2026-03-01T00:05:00+10:00", "scadavalue": 1.0,'
        b' "source_file": "x", "noticed": 0}',
    )
    inbox.refuse = 100
    with pytest.raises(MailError):
        await second.flush()
    assert list(await second.outbox()) == [outbox_key]
    inbox.refuse = 0
    assert await second.flush() == ["NEWUNIT1"]


async def test_registry_changes_are_mailed_once(
    bus: Bus, inbox: Inbox, full_registry: pl.DataFrame
) -> None:
    settings = settings_for(inbox)
    kv = await bus.kv("nemstream_mailer")
    sender = MailSender(settings)
    assert await registry_changes(kv, full_registry, sender) == []  # first look: baseline
    changed = full_registry.with_columns(
        pl.when(pl.col("duid") == "HDWF1")
        .then(pl.col("capacity_mw") + 100)
        .otherwise(pl.col("capacity_mw"))
        .alias("capacity_mw"),
        pl.when(pl.col("duid") == "BW01")
        .then(pl.lit("gas"))
        .otherwise(pl.col("fuel"))
        .alias("fuel"),
    )
    changes = await registry_changes(kv, changed, sender)
    assert sorted((c.duid, c.field) for c in changes) == [
        ("BW01", "fuel"),
        ("HDWF1", "capacity_mw"),
    ]
    (mail,) = inbox.messages
    assert mail["Subject"] == "NEM unit registry changes: BW01, HDWF1"
    assert "BW01         fuel          coal → gas" in mail.get_content()
    assert await registry_changes(kv, changed, sender) == []  # said once
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
async def test_smtp_over_tls(tls: str) -> None:
    # STARTTLS (port 587) with AUTH; implicit TLS (port 465) without: aiosmtpd's AUTH does not
    # work over implicit TLS, so that combination is left to a real provider
    users = {"nemstream": "s3cret"} if tls == "starttls" else None
    with running_smtp(tls=tls, users=users) as server:  # type: ignore[arg-type]
        settings = MailerSettings(
            smtp_host=server.host,
            smtp_port=server.port,
            smtp_tls=tls,
            smtp_user="nemstream" if users else None,
            smtp_password="s3cret" if users else None,
            smtp_ca_file=server.ca_file,
            alert_email_to="ops@example.org",
            notify_backoff_s=0.05,
            notify_attempts=2,
            smtp_timeout_s=5,
        )
        with capture_logs() as logs:
            await MailSender(settings).send("over TLS", "hello")
        assert [m["Subject"] for m in server.messages] == ["over TLS"]
        assert "s3cret" not in str(logs)
        if users:
            assert server.logins == ["nemstream"]
            wrong = settings.model_copy(update={"smtp_password": SecretStr("wrong")})
            with pytest.raises(MailError):  # refused credentials are permanent: not retried
                await MailSender(wrong).send("refused", "hello")
            assert len(server.messages) == 1
        untrusted = settings.model_copy(update={"smtp_ca_file": None})
        with pytest.raises(MailError):  # a certificate nobody vouches for is refused
            await MailSender(untrusted).send("untrusted", "hello")
