"""The price-alert service against a real nats-server, the real `twilio` client talking to a
local Twilio endpoint, and a real SMTP server, driven by real price history.

Price history: the real March 2026 DISPATCHPRICE archive (NSW1 and SA1, 1-3 and 30-31 March).
Its prices never reach $1,000/MWh, so the tests raise a few named intervals to spike values
(`SPIKES`, said so there); every other price is AEMO's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from nemstream_alerts import (
    AlertSettings,
    Freshness,
    PriceAlerts,
    RegionState,
    day_alerts,
    send_summary,
)
from nemstream_bus import Bus, NatsServer
from nemstream_contracts import ALERTS_PRICE, DispatchPrice, PriceAlert
from nemstream_fetcher import Event, report_events
from nemstream_market import NEM_TZ
from nemstream_mms import iter_reports
from nemstream_notify import MailSender, SmsSender
from nemstream_runtime import CRASH_EXIT_CODE
from nemstream_testing import (
    SampleSet,
    consumer_drained,
    names,
    publish_all,
    run_until_drained,
    stream_messages,
    wait_until,
)
from nemstream_testing.smtp import Inbox, running_smtp
from nemstream_testing.twilio import FakeTwilio, running_fake_twilio

TO = ["+61411111111", "+61422222222"]
FROM = "+61400000000"
# Spikes added to the real history (interval ending, NEM time -> RRP), the only edited values.
SPIKES = {
    ("SA1", datetime(2026, 3, 2, 18, 0)): 1500.0,  # normal -> high: alert
    ("SA1", datetime(2026, 3, 2, 18, 5)): 12000.0,  # high -> extreme: alert
    ("SA1", datetime(2026, 3, 2, 18, 10)): 800.0,  # extreme, still >= 300: nothing
    ("NSW1", datetime(2026, 3, 3, 8, 0)): 15000.0,  # normal -> extreme directly: alert
    ("NSW1", datetime(2026, 3, 3, 8, 5)): 500.0,  # nothing
    ("SA1", datetime(2026, 3, 30, 12, 0)): 1200.0,  # normal -> high: alert
    ("SA1", datetime(2026, 3, 30, 12, 5)): 600.0,  # between 300 and 1,000: nothing (hysteresis)
    ("SA1", datetime(2026, 3, 30, 12, 10)): 1100.0,  # still high: nothing
}
# The real price of the interval after each episode, below $300: the recoveries.
RECOVERIES = [
    ("SA1", datetime(2026, 3, 2, 18, 15)),
    ("NSW1", datetime(2026, 3, 3, 8, 10)),
    ("SA1", datetime(2026, 3, 30, 12, 15)),
]


def history(samples: SampleSet) -> list[Event]:
    """Every real interval of the archive, with `SPIKES` applied."""
    out = []
    for report in iter_reports(samples.path(names.PRICE_ARCHIVE)):
        for event in report_events("dispatch", report):
            message = event.message
            assert isinstance(message, DispatchPrice)
            at = message.interval.replace(tzinfo=None)
            rows = [
                r.model_copy(update={"rrp": SPIKES.get((r.regionid, at), r.rrp)})
                for r in message.rows
            ]
            edited = message.model_copy(update={"rows": rows})
            out.append(Event(event.subject, event.msg_id, edited, event.interval))
    return sorted(out, key=lambda e: e.interval)


def real_price(events: list[Event], region: str, at: datetime) -> float:
    for event in events:
        assert isinstance(event.message, DispatchPrice)
        if event.interval == at:
            return next(r.rrp for r in event.message.rows if r.regionid == region)
    raise AssertionError(f"no {region} price at {at}")


def expected_texts(events: list[Event]) -> list[str]:
    sa_recover, nsw_recover, sa_recover_2 = (real_price(events, r, t) for r, t in RECOVERIES)
    assert max(sa_recover, nsw_recover, sa_recover_2) < 300  # real prices: they recover
    assert sa_recover_2 < 0  # a real negative price, written -$4.04/MWh
    return [
        "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00",
        "🚨🚨🚨 EXTREME PRICE SA1 $12,000.00/MWh at 18:05",
        f"✅ Price recovered SA1 ${sa_recover:,.2f}/MWh at 18:15",
        "🚨🚨🚨 EXTREME PRICE NSW1 $15,000.00/MWh at 08:00",
        f"✅ Price recovered NSW1 ${nsw_recover:,.2f}/MWh at 08:10",
        "⚠️ HIGH PRICE SA1 $1,200.00/MWh at 12:00",
        f"✅ Price recovered SA1 -${-sa_recover_2:,.2f}/MWh at 12:15",
    ]


def settings_for(fake: FakeTwilio, **overrides: object) -> AlertSettings:
    options: dict[str, object] = {
        "twilio_account_sid": fake.account,
        "twilio_auth_token": fake.token,
        "twilio_from": FROM,
        "twilio_base_url": fake.url,
        "alert_sms_to": ",".join(TO),
        "alert_max_age_s": 1e10,  # history: alert even for old intervals
        "notify_backoff_s": 0.05,
        "notify_backoff_max_s": 0.1,
        "metrics_port": -1,
    }
    options.update(overrides)
    return AlertSettings(**options)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as running:
        yield running


def sent(fake: FakeTwilio) -> list[tuple[str, str, str]]:
    return [(r.form["To"], r.form["From"], r.form["Body"]) for r in fake.accepted]


async def test_one_sms_per_transition_to_every_recipient(
    samples: SampleSet, bus: Bus, fake: FakeTwilio
) -> None:
    events = history(samples)
    await publish_all(bus, events)
    alerts = PriceAlerts(settings_for(fake), bus)
    await run_until_drained(bus, alerts.loop, within=90)
    texts = expected_texts(events)
    assert sent(fake) == [(to, FROM, text) for text in texts for to in TO]
    published = await stream_messages(bus, subject=ALERTS_PRICE)
    transitions = [PriceAlert.model_validate(m.body) for m in published]
    assert [(t.regionid, t.state, t.previous_state) for t in transitions] == [
        ("SA1", "high", "normal"),
        ("SA1", "extreme", "high"),
        ("SA1", "recovered", "extreme"),
        ("NSW1", "extreme", "normal"),
        ("NSW1", "recovered", "extreme"),
        ("SA1", "high", "normal"),
        ("SA1", "recovered", "high"),
    ]
    assert transitions[0].interval == datetime(2026, 3, 2, 18, 0, tzinfo=NEM_TZ)
    # a replayed day after the stream's de-duplication window: judged again, nothing re-sent
    await publish_all(bus, events, id_prefix="replay:")
    again = PriceAlerts(settings_for(fake), bus)
    await run_until_drained(bus, again.loop, within=90)
    assert len(fake.accepted) == len(texts) * len(TO)
    assert alerts.kv is not None
    state = RegionState.load((await alerts.kv.get("region.SA1")).value)
    assert state.state == "normal" and state.interval == "2026-04-01T00:00:00+10:00"


@pytest.mark.faults
async def test_restart_midway_neither_repeats_nor_misses(
    samples: SampleSet, bus: Bus, fake: FakeTwilio
) -> None:
    events = history(samples)
    half = next(i for i, e in enumerate(events) if e.interval.day == 3)  # after SA1's
    await publish_all(bus, events[:half])
    await run_until_drained(bus, PriceAlerts(settings_for(fake), bus).loop, within=90)
    first = len(fake.accepted)
    assert first == 3 * len(TO)  # SA1 high, extreme, recovered
    await publish_all(bus, events[half:])
    await run_until_drained(
        bus, PriceAlerts(settings_for(fake), bus).loop, within=90
    )  # a new process
    assert sent(fake) == [(to, FROM, text) for text in expected_texts(events) for to in TO]


async def test_out_of_order_is_judged_by_interval_time(
    samples: SampleSet, bus: Bus, fake: FakeTwilio
) -> None:
    events = history(samples)
    spike = next(i for i, e in enumerate(events) if e.interval == datetime(2026, 3, 2, 18, 0))
    # the spike arrives after the next two intervals: too late to change what followed it
    reordered = [*events[:spike], events[spike + 1], events[spike + 2], events[spike]]
    await publish_all(bus, reordered)
    await run_until_drained(bus, PriceAlerts(settings_for(fake), bus).loop, within=90)
    bodies = [r.body for r in fake.accepted]
    assert "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00" not in bodies
    assert bodies[: len(TO)] == ["🚨🚨🚨 EXTREME PRICE SA1 $12,000.00/MWh at 18:05"] * len(TO)


@pytest.mark.faults
async def test_twilio_errors_retried_and_permanent_failures_contained(
    samples: SampleSet, bus: Bus, fake: FakeTwilio
) -> None:
    events = history(samples)
    fake.fail_next(500, 2)  # the first text fails twice, then goes
    fake.fail_always(400, to=TO[1])  # the second number is refused for good
    await publish_all(bus, events)
    with capture_logs() as logs:
        await run_until_drained(bus, PriceAlerts(settings_for(fake), bus).loop, within=90)
    texts = expected_texts(events)
    assert sent(fake) == [(TO[0], FROM, text) for text in texts]  # every one, exactly once
    failed = [entry for entry in logs if entry["event"] == "sms_failed"]
    assert len(failed) == len(texts) and all(e["status"] == 400 for e in failed)
    assert all(TO[1] not in str(entry) for entry in logs)  # numbers are masked in logs
    assert any(entry["event"] == "sms_retry" for entry in logs)


ACK_WAIT_S = 2.0
"""The subprocess tests' ack wait: a killed process's price comes back this soon."""


class Services:
    """The real alert service as subprocesses (``python -m nemstream_alerts``) against the test's
    nats-server and fake Twilio: started, killed or stopped one at a time, each one's log (JSON
    lines) in its own file."""

    def __init__(self, nats_server: NatsServer, fake: FakeTwilio, logs: Path) -> None:
        self.fake = fake
        self.logs = logs
        self.env = {
            **os.environ,
            "NEMSTREAM_NATS_URL": nats_server.url,
            "NEMSTREAM_TWILIO_ACCOUNT_SID": fake.account,
            "NEMSTREAM_TWILIO_AUTH_TOKEN": fake.token,
            "NEMSTREAM_TWILIO_FROM": FROM,
            "NEMSTREAM_TWILIO_BASE_URL": fake.url,
            "NEMSTREAM_ALERT_SMS_TO": ",".join(TO),
            "NEMSTREAM_ALERT_MAX_AGE_S": "1e10",
            "NEMSTREAM_METRICS_PORT": "-1",
            "NEMSTREAM_FRESHNESS_FEEDS": "",
            "NEMSTREAM_ALERTS_ACK_WAIT_S": str(ACK_WAIT_S),
            "NEMSTREAM_LOG_FORMAT": "json",
        }
        self.started: list[asyncio.subprocess.Process] = []

    def log_path(self, process: asyncio.subprocess.Process) -> Path:
        return self.logs / f"alerts-{self.started.index(process)}.log"

    async def start(self, **extra: str) -> asyncio.subprocess.Process:
        """A new service process (`extra`: environment on top of the shared one)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"alerts-{len(self.started)}.log").open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "nemstream_alerts",
                env={**self.env, **extra},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,  # a file, never a pipe nobody reads
            )
        self.started.append(process)
        return process

    def tail(self, process: asyncio.subprocess.Process) -> str:
        """The end of a process's log, for failure messages."""
        return self.log_path(process).read_text(errors="replace")[-3000:]

    def events(self, name: str) -> list[dict[str, object]]:
        """Every log entry called `name`, of every process started."""
        found = []
        for process in self.started:
            for line in self.log_path(process).read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    if entry.get("event") == name:
                        found.append(entry)
        return found

    async def accepted(
        self, count: int, process: asyncio.subprocess.Process, *, within: float = 60
    ) -> None:
        """Wait until Twilio accepted `count` texts in all (fail if `process` exits first)."""

        async def there() -> bool:
            return len(self.fake.accepted) >= count or process.returncode is not None

        try:
            await wait_until(there, within=within)
        except TimeoutError:
            raise AssertionError(
                f"{len(self.fake.accepted)} texts accepted, not {count}, in {within:g} s "
                f"(log: {self.tail(process)})"
            ) from None
        assert process.returncode is None, self.tail(process)

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        """SIGKILL: no clean-up, no goodbye to NATS or Twilio."""
        process.kill()
        await asyncio.wait_for(process.wait(), 30)
        assert process.returncode == -signal.SIGKILL, self.tail(process)

    async def exited(self, process: asyncio.subprocess.Process) -> int:
        """Wait for a process that ends by itself (a crash point); its exit code."""
        return await asyncio.wait_for(process.wait(), 60)

    async def stop(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, as an orchestrator stops it: it must exit cleanly."""
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        assert process.returncode == 0, self.tail(process)

    async def close(self) -> None:
        """Kill whatever a failed test left running."""
        for process in self.started:
            if process.returncode is None:
                process.kill()
                await process.wait()


@pytest.fixture
async def services(
    nats_server: NatsServer, fake: FakeTwilio, tmp_path: Path
) -> AsyncIterator[Services]:
    running = Services(nats_server, fake, tmp_path / "alerts-logs")
    try:
        yield running
    finally:
        await running.close()


async def all_sent(bus: Bus, fake: FakeTwilio, count: int) -> None:
    """Wait until `count` texts were accepted and the service acknowledged every price."""

    async def done() -> bool:
        return len(fake.accepted) >= count and await consumer_drained(bus, "alerts")

    await wait_until(done, within=120)


@pytest.mark.slow
@pytest.mark.faults
async def test_a_twilio_lookup_that_fails_is_retried_then_gives_way_to_sending(
    fake: FakeTwilio,
) -> None:
    sms = SmsSender(settings_for(fake))
    since = datetime.now(UTC) - timedelta(minutes=1)
    sent = await sms.send(TO[0], "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00")
    assert sent.outcome == "sent" and sent.sid is not None
    fake.fail_next_lookup(500)  # one failed list page: retried, then found
    assert await sms.find(TO[0], "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00", since=since) == sent.sid
    fake.fail_next_lookup(503, count=50)  # Twilio cannot be asked: the caller sends
    assert await sms.find(TO[0], "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00", since=since) is None
    assert await sms.find(TO[1], "⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00", since=since) is None


async def test_killed_after_an_sms_sends_it_once(
    samples: SampleSet, bus: Bus, fake: FakeTwilio, services: Services
) -> None:
    events = history(samples)
    await publish_all(bus, events)
    crashed = await services.start(NEMSTREAM_CRASH_AT="sms_recorded")
    assert await services.exited(crashed) == CRASH_EXIT_CODE, services.tail(crashed)
    assert len(fake.accepted) == 1  # the first text went, then the process died
    survivor = await services.start()
    await all_sent(bus, fake, len(expected_texts(events)) * len(TO))
    await services.stop(survivor)
    assert sent(fake) == [(to, FROM, text) for text in expected_texts(events) for to in TO]


KILLS = (1, 2, 3, "sms_intent", 6, 9, 13)
"""The kill plan over the 14 texts (7 alerts to 2 recipients, in sending order): a number n
SIGKILLs the service the moment Twilio accepted the n-th text, while its answer is still on the
way (both recipients of the first alert, then the second, third, fifth and seventh alerts); a
crash point name makes that process exit there instead (``sms_intent``: the intent of a text
is recorded, nothing sent, so Twilio has no such text and the next process must send it)."""


@pytest.mark.slow
@pytest.mark.faults
async def test_killed_while_twilio_answers_sends_every_text_once(
    samples: SampleSet, bus: Bus, fake: FakeTwilio, services: Services
) -> None:
    events = history(samples)
    await publish_all(bus, events)
    texts = expected_texts(events)
    # Twilio records each text at once and answers later, longer than the ack wait (a live
    # process keeps its price through heartbeats); a SIGKILL in that window leaves a text
    # Twilio has and the service never heard of
    fake.answer_delay_s = ACK_WAIT_S + 0.5
    kills = crashes = 0
    for step in KILLS:
        if isinstance(step, str):
            before = len(fake.accepted)
            crashed = await services.start(NEMSTREAM_CRASH_AT=step)
            assert await services.exited(crashed) == CRASH_EXIT_CODE, services.tail(crashed)
            assert len(fake.accepted) == before  # died with an intent, nothing sent
            crashes += 1
            continue
        process = await services.start()
        await services.accepted(step, process)
        await services.kill(process)
        kills += 1
        assert len(fake.accepted) == step  # killed while Twilio was answering text `step`
    survivor = await services.start()
    await all_sent(bus, fake, len(texts) * len(TO))
    await services.stop(survivor)

    expected = [(to, FROM, text) for text in texts for to in TO]
    total, distinct = len(fake.accepted), len(set(sent(fake)))
    assert sent(fake) == expected  # every text to every recipient, once, in order
    assert total == distinct == len(expected)
    found = services.events("sms_found_already_sent")
    # each killed text was found at Twilio by the next process (not sent again); the text whose
    # sender crashed before sending was looked up, not found, and sent
    assert len(found) == kills
    assert len(fake.lookups) == kills + crashes
    assert all(q == {"To": q["To"], "From": FROM, "PageSize": "50"} for q in fake.lookups)
    published = await stream_messages(bus, subject=ALERTS_PRICE)
    assert len(published) == len(texts)
    print(
        f"\nFAULT alerts SIGKILL while Twilio answers: kills {kills} (+{crashes} crash at "
        f"sms_intent), SMS accepted {total}, distinct {distinct}, expected {len(expected)}, "
        f"found at Twilio on restart {len(found)}, lookups {len(fake.lookups)}"
    )


@pytest.mark.slow
@pytest.mark.faults
async def test_restarted_after_repeated_kills_resumes_within_seconds(
    samples: SampleSet, bus: Bus, fake: FakeTwilio, services: Services
) -> None:
    events = history(samples)
    await publish_all(bus, events)
    texts = expected_texts(events)
    recipients = [*TO, "+61433333333", "+61444444444"]
    to = {"NEMSTREAM_ALERT_SMS_TO": ",".join(recipients)}
    fake.answer_delay_s = ACK_WAIT_S + 0.5
    waits = []  # seconds from each restart to its first text
    # one kill per recipient of the first alert: the same price, delivered again and again
    for count in range(1, len(recipients) + 1):
        restarted = time.time()
        process = await services.start(**to)
        await services.accepted(count, process)
        waits.append(fake.accepted[count - 1].received - restarted)
        await services.kill(process)
    assert [r.body for r in fake.accepted] == [texts[0]] * len(recipients)
    fake.answer_delay_s = 0.0
    restarted = time.time()
    survivor = await services.start(**to)
    await services.accepted(len(recipients) + 1, survivor)
    resumed = fake.accepted[len(recipients)].received - restarted
    assert fake.accepted[len(recipients)].body == texts[1]  # the next alert
    print(
        f"\nFAULT alerts restart after {len(recipients)} kills on one price: next alert "
        f"{resumed:.1f} s after the restart (ack wait {ACK_WAIT_S:g} s); first text after each "
        f"earlier restart: {', '.join(f'{w:.1f}' for w in waits)} s"
    )
    assert resumed < 30, f"next alert {resumed:.1f} s after the restart"
    assert all(w < 30 for w in waits), waits
    await all_sent(bus, fake, len(texts) * len(recipients))
    await services.stop(survivor)
    assert sent(fake) == [(r, FROM, text) for text in texts for r in recipients]


async def test_freshness_alerts_when_a_feed_goes_quiet_and_recovers(
    samples: SampleSet, bus: Bus, fake: FakeTwilio
) -> None:
    events = history(samples)
    with running_smtp() as inbox:
        settings = settings_for(
            fake,
            stale_after_s=10.0,
            freshness_feeds="dispatch",
            smtp_host=inbox.host,
            smtp_port=inbox.port,
            smtp_tls="none",
            alert_email_to="ops@example.org",
        )
        alerts = PriceAlerts(settings, bus)
        kv = await alerts.start()
        freshness = Freshness(settings, bus, kv, SmsSender(settings), MailSender(settings))
        await publish_all(bus, events[:1])
        assert await freshness.check() == []  # just published: fresh
        later = datetime.now(UTC) + timedelta(seconds=60)
        (stale,) = await freshness.check(now=later)
        assert stale.startswith("⏳ NEM data stale: no dispatch data for")
        assert await freshness.check(now=later) == []  # once, not every check
        await publish_all(bus, events[1:2])
        (fresh,) = await freshness.check()
        assert fresh.startswith("✅ NEM data flowing again: dispatch")
        await inbox_has(inbox, 2)
    assert [r.body for r in fake.accepted] == [stale, stale, fresh, fresh]
    assert [m["Subject"] for m in inbox.messages] == [stale, fresh]


async def inbox_has(inbox: Inbox, count: int) -> None:
    async def arrived() -> bool:
        return len(inbox.messages) >= count

    await wait_until(arrived, within=10)


async def test_daily_summary_mails_once(samples: SampleSet, bus: Bus, fake: FakeTwilio) -> None:
    events = history(samples)
    await publish_all(bus, events)
    with running_smtp() as inbox:
        settings = settings_for(
            fake,
            smtp_host=inbox.host,
            smtp_port=inbox.port,
            smtp_tls="none",
            alert_email_to="ops@example.org",
        )
        alerts = PriceAlerts(settings, bus)
        await run_until_drained(bus, alerts.loop, within=90)
        assert alerts.kv is not None
        day = datetime(2026, 3, 3, 9, tzinfo=NEM_TZ)
        assert (
            await day_alerts(bus, alerts.kv, day.date() - timedelta(days=1))
            == expected_texts(events)[:3]
        )
        inbox.refuse = 1  # the first attempt is refused (451): retried
        assert await send_summary(bus, alerts.kv, MailSender(settings), now=day)
        assert not await send_summary(bus, alerts.kv, MailSender(settings), now=day)  # once
        (mail,) = inbox.messages
    assert mail["Subject"] == "NEM price alerts on Mon 02 Mar 2026 (3)"
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode().splitlines() == expected_texts(events)[:3]


async def test_without_credentials_texts_are_logged_not_sent(samples: SampleSet, bus: Bus) -> None:
    events = history(samples)[: 12 * 24 * 2]
    await publish_all(bus, events)
    settings = AlertSettings(alert_sms_to=",".join(TO), alert_max_age_s=1e10, metrics_port=-1)
    alerts = PriceAlerts(settings, bus)
    assert alerts.sms.dry_run
    with capture_logs() as logs:
        await run_until_drained(bus, alerts.loop, within=90)
    dry = [e for e in logs if e["event"] == "sms_dry_run"]
    assert [e["body"] for e in dry][: len(TO)] == ["⚠️ HIGH PRICE SA1 $1,500.00/MWh at 18:00"] * 2
    assert all(e["to"].startswith("…") for e in dry)
