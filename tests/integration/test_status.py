"""The status page against real parts: a real nats-server; the real writer over a store built
from part of a real day of DispatchIS (a few consecutive files left out: a gap); the real
fetcher service taking the backfill request and reading the day from the local NEMWeb mirror
(an ARCHIVE day zip of the real 5-minute zips, as NEMWeb lays them out); the real alerts
service and mailer sending a test alert to a local Twilio endpoint and a real SMTP server."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nemstream_alerts import AlertSettings, PriceAlerts, alert_test_worker, run_alerts
from nemstream_bus import Bus, BusSettings, NatsServer
from nemstream_control import FeedPolls, JobFailed, TestAlertRequest
from nemstream_fetcher import Fetcher, run_fetcher
from nemstream_mailer import MailerSettings, run_mailer
from nemstream_market import NEM_TZ
from nemstream_mirror import running_mirror
from nemstream_nemweb import FEEDS, NemwebClient, NemwebSettings
from nemstream_query import Query, QuerySettings
from nemstream_runtime import bound_port, serving
from nemstream_status import Colour, StatusCollector, StatusReport, StatusSettings, create_app
from nemstream_testing import (
    SampleSet,
    consumer_drained,
    free_port,
    names,
    publish_all,
    running,
    wait_until,
)
from nemstream_testing.smtp import running_smtp
from nemstream_testing.twilio import running_fake_twilio
from nemstream_writer import Writer
from tests.integration.fetch_support import nemweb
from tests.integration.fetch_support import settings as fetcher_settings
from tests.integration.store_support import events, writer_settings

KEY = "ops-key-0123456789abcdef"
DAY = "2019-05-16"
TO = ["+61411111111", "+61422222222"]


def day_files(samples: SampleSet) -> list[str]:
    """The real DispatchIS files of 2019-05-16 00:05 to 03:00 (36 intervals), by sample name."""
    folder = samples.folder(names.HISTORY_DAY)
    return [f"{names.HISTORY_DAY}/{p.name}" for p in sorted(folder.iterdir())[1:37]]


def status_settings(tmp_path: Path, **overrides: object) -> StatusSettings:
    options: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "api_keys": f"ops:{KEY}",
        "status_services": "",
        "status_cache_s": 0,
    }
    options.update(overrides)
    return StatusSettings(**options)  # type: ignore[arg-type]


@pytest.fixture
async def page(bus: Bus, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The status app served on loopback, and a client holding the operator's key."""
    async with served(bus, status_settings(tmp_path)) as client:
        yield client


class served:
    """The app of `settings` served for a block; a client with the key (or `headers`)."""

    def __init__(self, bus: Bus, settings: StatusSettings, **headers: str) -> None:
        self.bus, self.settings = bus, settings
        self.headers = headers or {"Authorization": f"Bearer {KEY}"}

    async def __aenter__(self) -> httpx.AsyncClient:
        self.query = Query(QuerySettings(data_dir=self.settings.data_dir))
        self.serving = serving(create_app(self.settings, self.bus, self.query))
        server = await self.serving.__aenter__()
        url = f"http://127.0.0.1:{bound_port(server)}"
        self.client = httpx.AsyncClient(base_url=url, headers=self.headers, timeout=30)
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.serving.__aexit__(None, None, None)
        self.query.close()


async def finished(client: httpx.AsyncClient, job: str, within: float = 60) -> dict[str, Any]:
    """A job once it is done or failed."""
    found: dict[str, Any] = {}

    async def over() -> bool:
        nonlocal found
        found = (await client.get(f"/jobs/{job}")).json()
        return found["state"] in ("done", "failed")

    await wait_until(over, within=within)
    return found


async def test_feed_colours_change_when_a_feed_stops(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    await publish_all(bus, events(samples, day_files(samples)[:3]))  # up to 00:15
    await publish_all(bus, events(samples, [names.ROOFTOP_MEASUREMENT]))  # half-hour to 19:30
    closed = f"http://127.0.0.1:{free_port()}/readyz"
    settings = status_settings(tmp_path, status_services=f"writer={closed}")
    query = Query(QuerySettings(data_dir=settings.data_dir))
    collector = StatusCollector(bus, query, settings)
    try:
        dispatch = datetime(2019, 5, 16, 0, 15, tzinfo=NEM_TZ)

        async def colour(feed: str, now: datetime) -> Colour:
            report = await collector.report(now=now)
            (card,) = [f for f in report.feeds if f.feed == feed]
            assert card.latest_interval is not None and card.seen_on == "bus"
            return card.colour

        assert await colour("dispatch", dispatch + timedelta(minutes=2)) == Colour.GREEN
        assert await colour("dispatch", dispatch + timedelta(minutes=11)) == Colour.AMBER
        assert await colour("dispatch", dispatch + timedelta(minutes=31)) == Colour.RED
        rooftop = datetime(2024, 3, 3, 19, 30, tzinfo=NEM_TZ)
        assert await colour("rooftop", rooftop + timedelta(minutes=40)) == Colour.GREEN
        assert await colour("rooftop", rooftop + timedelta(minutes=50)) == Colour.AMBER
        assert await colour("rooftop", rooftop + timedelta(minutes=95)) == Colour.RED
        # the trading fetcher cannot reach NEMWeb: its card says so
        unreachable = NemwebSettings(
            nemweb_url=f"http://127.0.0.1:{free_port()}", http_retries=1, http_backoff=0.01
        )
        async with NemwebClient(unreachable) as client:
            fetcher = Fetcher(fetcher_settings("trading", tmp_path), bus, client)
            await fetcher.start()
            await fetcher.cycle()
            polls = await FeedPolls.open(bus)

            async def recorded() -> bool:
                return await polls.get("trading") is not None

            await wait_until(recorded)
        report = await collector.report(now=dispatch + timedelta(minutes=2))
        trading = next(f for f in report.feeds if f.feed == "trading")
        assert (trading.colour, trading.latest_interval) == (Colour.RED, None)  # never published
        assert trading.last_poll_ok is False and trading.last_error is not None
        assert trading.last_error.startswith("listing failed")
        # no consumer, no service: red cards, not errors
        assert {c.durable: c.colour for c in report.consumers} == dict.fromkeys(
            ["writer", "aggregator", "alerts", "mailer"], Colour.RED
        )
        (service,) = report.services
        assert (service.state, service.colour) == ("unreachable", Colour.RED)
        assert report.colour == Colour.RED
        StatusReport.model_validate_json(report.model_dump_json())  # what the API serves
    finally:
        await collector.close()
        query.close()


def _day_zip(folder: Path, samples: SampleSet, files: list[str]) -> None:
    """NEMWeb's ARCHIVE day zip of the day's real 5-minute zips, built at test time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in files:
            archive.writestr(Path(name).name, samples.path(name).read_bytes())
    folder.mkdir()
    (folder / f"PUBLIC_DISPATCHIS_{DAY.replace('-', '')}.zip").write_bytes(buffer.getvalue())


async def integrity(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/actions/integrity", json={"start": DAY, "end": DAY})
    assert response.status_code == 202, response.text
    job = await finished(client, response.json()["id"])
    assert job["state"] == "done", job
    return job["result"]  # type: ignore[no-any-return]


async def test_a_gap_found_by_the_integrity_check_is_filled_by_the_backfill_action(
    samples: SampleSet, nats_server: NatsServer, bus: Bus, page: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = day_files(samples)
    hole = files[12:16]  # the intervals ending 01:05 to 01:20
    writer = Writer(writer_settings(tmp_path), bus)

    async def stored() -> bool:
        return writer.loop.bound and await consumer_drained(bus, "writer")

    async with running(writer):
        await publish_all(bus, events(samples, [f for f in files if f not in hole]))
        await wait_until(stored)
        found = await integrity(page)
        assert found["duplicate_keys"] == 0
        assert found["missing"] == 3 * 4  # prices, demand, flows: four intervals each
        gap = {
            "start": f"{DAY}T01:00:00+10:00",
            "end": f"{DAY}T01:20:00+10:00",
            "first_day": DAY,
            "last_day": DAY,
        }
        for table in ("prices5", "regionsum5", "interconnector5"):
            assert found["gaps"][table]["runs"] == [gap], table
        shown = (await page.get("/status.json", params={"start": DAY, "end": DAY})).json()
        prices = next(t for t in shown["tables"] if t["table"] == "prices5")
        assert (prices["colour"], prices["missing"], prices["feed"]) == ("amber", 4, "dispatch")
        html = (await page.get("/", params={"start": DAY, "end": DAY})).text
        assert f'data-feed="dispatch" data-start="{DAY}" data-end="{DAY}"' in html

        _day_zip(tmp_path / "nemweb", samples, files)
        stop = asyncio.Event()
        async with running_mirror(tmp_path / "nemweb") as mirror:
            fetcher = asyncio.create_task(
                run_fetcher(
                    fetcher_settings("dispatch", tmp_path),
                    bus_settings=BusSettings(nats_url=nats_server.url),
                    nemweb_settings=nemweb(mirror),
                    stop=stop,
                )
            )
            try:
                asked = await page.post(
                    "/actions/backfill", json={"feed": "dispatch", "start": DAY, "end": DAY}
                )
                assert asked.status_code == 202, asked.text
                assert asked.json()["state"] == "queued"
                job = await finished(page, asked.json()["id"])
            finally:
                stop.set()
                await asyncio.wait_for(fetcher, 30)
        assert job["state"] == "done", job
        assert (job["done"], job["total"]) == (1, 1)  # one archive file, read whole
        result = job["result"]
        assert (result["files"], result["intervals"], result["failed"]) == (1, 36, [])
        assert result["stored"] == 3 * 4  # only the missing intervals were new
        await wait_until(stored)
        after = await integrity(page)
    assert (after["missing"], after["duplicate_keys"]) == (0, 0)
    assert all(g["runs"] == [] for g in after["gaps"].values())
    shown = (await page.get("/status.json", params={"start": DAY, "end": DAY})).json()
    prices = next(t for t in shown["tables"] if t["table"] == "prices5")
    assert (prices["colour"], prices["missing"], prices["gaps"]) == ("green", 0, [])
    dispatch = next(f for f in shown["feeds"] if f["feed"] == "dispatch")
    assert dispatch["last_poll_ok"] is True  # the fetcher recorded its polls
    kinds = [j["kind"] for j in shown["jobs"]]
    assert kinds.count("integrity") == 2 and kinds.count("backfill") == 1


async def test_actions_need_a_valid_key(bus: Bus, tmp_path: Path) -> None:
    body = {"feed": "dispatch", "start": DAY, "end": DAY}
    async with served(bus, status_settings(tmp_path), Accept="application/json") as client:
        missing = await client.post("/actions/backfill", json=body)
        assert missing.status_code == 401 and "API key is needed" in missing.json()["detail"]
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = await client.post(
            "/actions/backfill", json=body, headers={"Authorization": "Bearer " + "x" * 24}
        )
        assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]
        alert = await client.post("/actions/test-alert", json={}, headers={"X-API-Key": "nope"})
        assert alert.status_code == 401
        unknown = await client.post(
            "/actions/backfill", json={**body, "feed": "bids"}, headers={"X-API-Key": KEY}
        )
        assert unknown.status_code == 400
        assert unknown.json() == {
            "detail": "unknown feed 'bids': the feeds are " + ", ".join(FEEDS)
        }
        backwards = await client.post(
            "/actions/integrity",
            json={"start": DAY, "end": "2019-05-01"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert backwards.status_code == 400 and "before it starts" in backwards.json()["detail"]
        assert (await client.get("/status.json")).status_code == 200  # reading needs no key
        assert (await client.get("/jobs/no-such-job")).status_code == 404
    async with served(bus, status_settings(tmp_path, api_keys="")) as client:
        disabled = await client.post("/actions/backfill", json=body)
        assert disabled.status_code == 403
        assert "NEMSTREAM_API_KEYS" in disabled.json()["detail"]


class _Broken(StatusCollector):
    async def report(self, *args: Any, **kwargs: Any) -> StatusReport:
        raise RuntimeError("secret internals")


async def test_no_stack_trace_reaches_a_client(bus: Bus, tmp_path: Path) -> None:
    settings = status_settings(tmp_path)
    query = Query(QuerySettings(data_dir=settings.data_dir))
    collector = _Broken(bus, query, settings)
    app = create_app(settings, bus, query, collector=collector)
    try:
        async with serving(app) as server:
            url = f"http://127.0.0.1:{bound_port(server)}/status.json"
            async with httpx.AsyncClient() as client:
                answer = await client.get(url, headers={"X-Request-Id": "req-1"})
        assert answer.status_code == 500
        assert answer.json() == {"detail": "internal error", "request_id": "req-1"}
        assert answer.headers["X-Request-Id"] == "req-1"
    finally:
        await collector.close()
        query.close()


async def test_a_test_alert_goes_by_text_and_by_mail(
    bus: Bus, nats_server: NatsServer, page: httpx.AsyncClient, tmp_path: Path, monkeypatch: Any
) -> None:
    # the mailer's registry: none here, and never from the network
    monkeypatch.setenv("NEMSTREAM_REGISTRY_URL", "http://127.0.0.1:9/unreachable.xlsx")
    monkeypatch.setenv("NEMSTREAM_SAMPLES_DIR", str(tmp_path / "no-registry-inputs"))
    monkeypatch.setenv("NEMSTREAM_REGISTRY_TIMEOUT", "2")
    stop = asyncio.Event()
    nats = BusSettings(nats_url=nats_server.url)
    async with running_fake_twilio() as fake:
        with running_smtp() as inbox:
            alerts = AlertSettings(
                twilio_account_sid=fake.account,
                twilio_auth_token=fake.token,
                twilio_from="+61400000000",
                twilio_base_url=fake.url,
                alert_sms_to=",".join(TO),
                freshness_feeds="",
                metrics_port=-1,
            )
            mailer = MailerSettings(
                smtp_host=inbox.host,
                smtp_port=inbox.port,
                smtp_tls="none",
                alert_email_to="ops@example.org",
                data_dir=tmp_path / "data",
                metrics_port=-1,
            )
            services = [
                asyncio.create_task(run_alerts(alerts, bus_settings=nats, stop=stop)),
                asyncio.create_task(run_mailer(mailer, bus_settings=nats, stop=stop)),
            ]
            try:
                asked = await page.post("/actions/test-alert", json={"message": "hello ops"})
                assert asked.status_code == 202, asked.text
                text, mail = [await finished(page, j["id"]) for j in asked.json()["jobs"]]
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*services), 30)
    assert (text["kind"], text["state"], mail["kind"], mail["state"]) == (
        "test_alert",
        "done",
        "test_mail",
        "done",
    ), (text, mail)
    assert [(r.to, r.body) for r in fake.accepted] == [
        (to, "🔔 nemstream test alert: hello ops") for to in TO
    ]
    assert (text["result"]["sent"], text["result"]["dry_run"]) == (2, False)
    (message,) = inbox.messages
    assert message["Subject"] == "nemstream test mail"
    assert inbox.envelopes[0][1] == ["ops@example.org"]
    assert "hello ops" in message.get_content()
    # nobody to text: the job fails with a sentence, nothing is sent
    quiet = AlertSettings(alert_sms_to="", metrics_port=-1)
    worker = alert_test_worker(quiet, bus, PriceAlerts(quiet, bus))
    with pytest.raises(JobFailed, match="NEMSTREAM_ALERT_SMS_TO"):
        await worker.handle(TestAlertRequest(job="x"), _no_progress)


async def _no_progress(**changes: object) -> None:
    return None


async def test_the_status_service_runs_and_stops(nats_server: NatsServer, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "status.log"
    env = {
        **os.environ,
        "NEMSTREAM_NATS_URL": nats_server.url,
        "NEMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "NEMSTREAM_STATUS_PORT": str(port),
        "NEMSTREAM_HEALTH_HOST": "127.0.0.1",
        "NEMSTREAM_API_KEYS": f"ops:{KEY}",
        "NEMSTREAM_STATUS_SERVICES": "",
        "NEMSTREAM_LOG_FORMAT": "json",
    }
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nemstream_status", env=env, stderr=sink
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, within=30)
            assert (await client.get("/healthz")).json()["status"] == "alive"
            page = await client.get("/")
            assert page.status_code == 200 and "<h1>nemstream status</h1>" in page.text
            assert "nemstream_status_report_seconds" in (await client.get("/metrics")).text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    text = log.read_text()
    assert code == 0, text
    assert '"event": "status_ready"' in text and '"ops"' in text
    assert KEY not in text  # the key's name is logged, never the key
