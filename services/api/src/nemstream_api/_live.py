"""The live side: one ordered consumer of ``nem.>`` per process, fanned out to every client.

Each bus event keeps its JetStream stream sequence, which is the id a client sees; a client that
comes back with the last id it saw gets exactly the events after it (from the recent-events
buffer, or read again from the stream while the stream keeps them), then the live ones, with no
gap and no repeat. Clients read one shared copy of the recent events (a burst of thousands of
messages costs nothing per client); a client whose connection takes no event for a while is
dropped with a logged reason, never slowing the others; it reconnects with its last id and loses
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy
from prometheus_client import Counter, Gauge

from nemstream_bus import Bus
from nemstream_runtime import get_logger

log = get_logger(__name__)

CLIENTS = Gauge("nemstream_api_stream_clients", "Live-stream clients connected", ["transport"])
SENT = Counter("nemstream_api_stream_events", "Events sent to live-stream clients", ["source"])
DROPPED = Counter("nemstream_api_stream_dropped", "Live-stream clients dropped", ["reason"])
BUS_EVENTS = Counter("nemstream_api_bus_events", "Bus events received by the fan-out")

KINDS = {
    "nem.dispatch.price.v1": "prices",
    "nem.trading.price.v1": "trading",
    "nem.alerts.price.v1": "alerts",
    "nem.registry.duid.v1": "units",
    "nem.dispatch.regionsum.v1": "regionsum",
    "nem.dispatch.interconnector.v1": "interconnectors",
    "nem.scada.unit.v1": "scada",
    "nem.rooftop.actual.v1": "rooftop",
    "nem.p5min.price.v1": "forecasts",
    "nem.predispatch.price.v1": "forecasts",
    "nem.emissions.region.v1": "emissions",
}
"""Subject → the kind clients filter on (30-minute aggregates are ``aggregates``)."""

STREAM_KINDS = (
    "prices",
    "trading",
    "alerts",
    "units",
    "aggregates",
    "regionsum",
    "interconnectors",
    "scada",
    "rooftop",
    "forecasts",
    "emissions",
)


def kind_of(subject: str) -> str:
    """The kind of a subject's events."""
    if subject.endswith(".30min.v1"):
        return "aggregates"
    return KINDS.get(subject, subject.split(".")[1] if subject.count(".") >= 2 else subject)


def _region_of(row: dict[str, Any], subject: str) -> str | None:
    if "regionid" in row:
        return str(row["regionid"])
    if "region" in row:
        return str(row["region"])
    if subject.startswith("nem.dispatch.price.30min") and "key" in row:
        return str(row["key"])
    return None


@dataclass(slots=True)
class Event:
    """One bus message as clients get it."""

    sequence: int
    subject: str
    kind: str
    body: dict[str, Any]
    _encoded: dict[frozenset[str] | None, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, sequence: int, subject: str, data: bytes) -> Event:
        """Parse a message body (a body that is not JSON is passed as text)."""
        try:
            body = json.loads(data)
        except ValueError:
            body = {"text": data.decode("utf-8", "replace")}
        if not isinstance(body, dict):
            body = {"value": body}
        return cls(sequence, subject, kind_of(subject), body)

    def payload(self, regions: frozenset[str] | None) -> str | None:
        """The JSON clients receive (rows of other regions left out when `regions` is given;
        None when nothing of the event is for them). Encoded once per filter."""
        if regions in self._encoded:
            return self._encoded[regions]
        body = self.body
        if regions is not None:
            if "region" in body and body["region"] not in regions:
                self._encoded[regions] = None
                return None
            rows = body.get("rows")
            if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                kept = [r for r in rows if _region_of(r, self.subject) in (None, *regions)]
                if not kept:
                    self._encoded[regions] = None
                    return None
                body = {**body, "rows": kept}
        text = json.dumps(
            {"sequence": self.sequence, "subject": self.subject, "kind": self.kind, "body": body},
            separators=(",", ":"),
        )
        self._encoded[regions] = text
        return text


@dataclass(eq=False, slots=True)
class Client:
    """One connected client: what it wants, and where its send stands."""

    kinds: frozenset[str] | None
    regions: frozenset[str] | None
    transport: str
    sending_since: float | None = None  # a send in progress since (monotonic)
    behind: int = 0
    dropped: str | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, event: Event) -> bool:
        """Whether the event's kind is one it asked for."""
        return self.kinds is None or event.kind in self.kinds


class Hub:
    """The process's one subscription, the recent events every client reads from (one copy,
    however many clients), and the clients."""

    def __init__(self, bus: Bus, *, buffer: int = 10_000, stall_s: float = 10.0) -> None:
        self.bus = bus
        self.stream = bus.settings.stream_name
        self.capacity = buffer
        self.recent: dict[int, Event] = {}  # sequence -> event, the newest `buffer`
        self.first = 1  # the oldest sequence in `recent`
        self.clients: set[Client] = set()
        self.stall_s = stall_s
        self.last_sequence = 0
        self.latest: dict[str, Event] = {}
        self._subscription: Any = None
        self._news: asyncio.Future[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.running = False

    def _signal(self) -> asyncio.Future[None]:
        if self._news is None or self._news.done():
            self._news = asyncio.get_running_loop().create_future()
        return self._news

    async def start(self) -> None:
        """Subscribe from the stream's next message; remember each subject's newest."""
        info = await self.bus.js.stream_info(self.stream)
        self.last_sequence = info.state.last_seq
        self.first = self.last_sequence + 1
        for subject in KINDS:
            with contextlib.suppress(Exception):
                raw = await self.bus.js.get_msg(self.stream, subject=subject, direct=False)
                if raw.seq is not None and raw.subject and raw.data is not None:
                    self.latest[subject] = Event.of(raw.seq, raw.subject, raw.data)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.last_sequence + 1,
        )
        self._subscription = await self.bus.js.subscribe(
            "nem.>",
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            config=config,
            pending_msgs_limit=100_000,
        )
        self._watchdog = asyncio.create_task(self._watch())
        self.running = True
        log.info("stream_hub_started", stream=self.stream, from_sequence=self.last_sequence + 1)

    async def stop(self) -> None:
        """Unsubscribe and end every client's stream."""
        self.running = False
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
        for client in list(self.clients):
            client.gone.set()
        self._signal().set_result(None)

    async def _on_message(self, message: Msg) -> None:
        sequence = message.metadata.sequence.stream
        if sequence <= self.last_sequence:
            return  # a re-delivery after the ordered consumer reset
        event = Event.of(sequence, message.subject, message.data)
        self.last_sequence = sequence
        self.recent[sequence] = event
        while len(self.recent) > self.capacity:
            self.recent.pop(self.first, None)
            self.first += 1
        if not self.recent:
            self.first = sequence
        self.latest[event.subject] = event
        BUS_EVENTS.inc()
        self._signal().set_result(None)

    async def _watch(self) -> None:
        """Drop clients whose transport has not taken an event for `stall_s`."""
        while True:
            await asyncio.sleep(min(1.0, self.stall_s / 2))
            now = time.monotonic()
            for client in list(self.clients):
                since = client.sending_since
                if since is not None and now - since > self.stall_s:
                    self.drop(
                        client,
                        f"slow client: a send blocked {now - since:.1f} s with "
                        f"{self.last_sequence - client.behind} events behind",
                    )

    def drop(self, client: Client, reason: str) -> None:
        """Stop sending to a client and say why in the log (it resumes by its last id)."""
        if client.dropped is None:
            client.dropped = reason
            DROPPED.labels("slow" if reason.startswith("slow") else "other").inc()
            log.warning("stream_client_dropped", reason=reason, transport=client.transport)
        self.clients.discard(client)
        client.gone.set()
        if self._news is not None and not self._news.done():
            self._news.set_result(None)

    async def _backlog(self, client: Client, after: int, upto: int) -> AsyncIterator[Event]:
        """Events (after, upto] read again from the stream by an ordered consumer of its own
        (for a client further back than the recent events reach); a ``gap`` event first when
        the stream no longer keeps some of them."""
        info = await self.bus.js.stream_info(self.stream)
        first = info.state.first_seq
        if first > after + 1:
            yield Event(
                first - 1,
                "",
                "gap",
                {
                    "detail": "events after your last id are no longer kept by the stream",
                    "missing_from": after + 1,
                    "missing_to": first - 1,
                },
            )
        start = max(after + 1, first)
        if start > upto:
            return
        subscription = await self.bus.js.subscribe(
            "nem.>",
            stream=self.stream,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
            ),
        )
        try:
            while True:
                try:
                    message = await subscription.next_msg(timeout=5.0)
                except NatsTimeoutError:
                    log.warning("stream_backlog_stalled", after=after, upto=upto)
                    return
                sequence = message.metadata.sequence.stream
                if sequence > upto:
                    return
                SENT.labels("stream").inc()
                yield Event.of(sequence, message.subject, message.data)
                if sequence >= upto:
                    return
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    @contextlib.asynccontextmanager
    async def connect(
        self, kinds: frozenset[str] | None, regions: frozenset[str] | None, transport: str
    ) -> AsyncIterator[Client]:
        """A client for the length of a connection."""
        client = Client(kinds, regions, transport)
        self.clients.add(client)
        CLIENTS.labels(transport).inc()
        try:
            yield client
        finally:
            self.clients.discard(client)
            CLIENTS.labels(transport).dec()

    async def events(
        self, client: Client, after: int | None, heartbeat_s: float
    ) -> AsyncGenerator[Event | None, None]:
        """What the client is sent, in sequence order: every event after `after` (default:
        from now) the client wants, from the recent events or, further back, the stream; None
        when a heartbeat is due. Ends when the client is dropped or the hub stops. The caller
        sends each event before asking for the next (`sending_since` times that send)."""
        if after is not None and after > self.last_sequence:
            # an id from before the stream was recreated (its sequences started again): say so,
            # then go on from now
            yield Event(
                self.last_sequence,
                "",
                "reset",
                {
                    "detail": "your last id is ahead of this stream, which was recreated: "
                    "events continue from now; re-read history from the REST endpoints",
                    "last_id": after,
                    "stream_sequence": self.last_sequence,
                },
            )
        if after is None or after > self.last_sequence:
            after = self.last_sequence
        sent = after
        while not client.gone.is_set():
            news = self._signal()
            if sent < self.last_sequence:
                if sent + 1 < self.first:
                    upto = self.first - 1
                    async for event in self._backlog(client, sent, upto):
                        if event.kind == "gap" or client.wants(event):
                            client.sending_since, client.behind = time.monotonic(), event.sequence
                            yield event
                            client.sending_since = None
                    sent = upto
                    continue
                sent += 1
                found = self.recent.get(sent)
                if found is not None and client.wants(found):
                    client.sending_since, client.behind = time.monotonic(), sent
                    SENT.labels("live").inc()
                    yield found
                    client.sending_since = None
                continue
            try:
                await asyncio.wait_for(asyncio.shield(news), heartbeat_s)
            except TimeoutError:
                client.sending_since = time.monotonic()
                yield None  # heartbeat
                client.sending_since = None
