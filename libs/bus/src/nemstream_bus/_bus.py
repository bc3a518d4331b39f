"""Connecting to NATS and declaring what nemstream needs on it: the NEM stream, the dead-letter
stream, durable pull consumers (declared explicitly, config changes applied), KV buckets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.errors import ConnectionReconnectingError, NoRespondersError, NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import (
    BucketNotFoundError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, Field, SecretStr

from nemstream_runtime import NemstreamSettings, get_logger

log = get_logger(__name__)

T = TypeVar("T")

CONNECTED = Gauge("nemstream_nats_connected", "1 while connected to NATS")
CONNECTION_EVENTS = Counter("nemstream_nats_connection_events", "NATS client events", ["event"])
PUBLISHED = Counter("nemstream_bus_published", "Messages published", ["subject", "outcome"])

DEAD_LETTER_STREAM = "NEM_DEADLETTER"
DEAD_LETTER_PREFIX = "deadletter"

DECLARE_RETRY_S = 30.0
"""How long declaring a stream waits out a leader election or a restarting server."""

_RETRYABLE = (
    NatsTimeoutError,
    NoRespondersError,
    NoStreamResponseError,  # a publish answered "no responders": the stream's leader is moving
    ConnectionReconnectingError,
    ServiceUnavailableError,
    TimeoutError,
)
"""Publish failures of a server restarting or a leader moving: worth another try."""


class BusUnavailable(RuntimeError):
    """NATS could not be reached in the time allowed (one-shot commands say so and exit)."""


class BusSettings(NemstreamSettings):
    """How to reach NATS and how the NEM stream is kept."""

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NEMSTREAM_NATS_URL: a server, or a comma list of a cluster's servers",
    )
    stream_name: str = Field("NEM", description="the stream of every nem.> subject")
    stream_max_age_days: float = Field(14.0, gt=0, description="how long messages are kept")
    stream_duplicate_window_s: float = Field(
        600.0, gt=0, description="Nats-Msg-Id de-duplication window (seconds)"
    )
    stream_replicas: int = Field(1, ge=1, description="stream replicas (clustered NATS)")
    nats_connect_timeout_s: float = Field(
        10.0, gt=0, description="one-shot commands: how long to wait for NATS before giving up"
    )
    publish_retry_s: float = Field(
        60.0, ge=0, description="one-shot commands: how long a publish retries through a restart"
    )
    nats_creds: Path | None = Field(
        None, description="a NATS credentials file (user JWT and nkey seed, `nsc` makes them)"
    )
    nats_nkey_seed: Path | None = Field(None, description="a file holding a user's nkey seed")
    nats_user: str | None = Field(None, description="NATS user (with NEMSTREAM_NATS_PASSWORD)")
    nats_password: SecretStr | None = Field(None, description="NATS password (a secret)")
    nats_tls_ca: Path | None = Field(
        None, description="CA certificate(s) to trust for the server's TLS certificate"
    )
    nats_tls_cert: Path | None = Field(None, description="client certificate (mutual TLS)")
    nats_tls_key: Path | None = Field(None, description="client key (mutual TLS)")

    def auth_options(self) -> dict[str, Any]:
        """nats-py connect options for credentials and TLS (none set: a plain connection)."""
        options: dict[str, Any] = {}
        if self.nats_creds is not None:
            options["user_credentials"] = str(self.nats_creds)
        if self.nats_nkey_seed is not None:
            options["nkeys_seed"] = str(self.nats_nkey_seed)
        if self.nats_user is not None:
            options["user"] = self.nats_user
            if self.nats_password is not None:
                options["password"] = self.nats_password.get_secret_value()
        if self.nats_tls_ca is not None or self.nats_tls_cert is not None:
            context = ssl.create_default_context(
                cafile=str(self.nats_tls_ca) if self.nats_tls_ca else None
            )
            if self.nats_tls_cert is not None:
                context.load_cert_chain(
                    str(self.nats_tls_cert), str(self.nats_tls_key) if self.nats_tls_key else None
                )
            options["tls"] = context
        return options


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer: name, subjects, and how deliveries are retried."""

    durable: str
    subjects: tuple[str, ...]
    max_deliver: int = 10
    ack_wait_s: float = 60.0
    backoff_s: tuple[float, ...] = (1.0, 5.0, 30.0)
    max_ack_pending: int = 1000
    deliver_all: bool = True  # a new consumer replays the stream's history

    def config(self) -> ConsumerConfig:
        """The JetStream consumer config this spec stands for."""
        subjects = list(self.subjects)
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL if self.deliver_all else DeliverPolicy.NEW,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
            backoff=list(self.backoff_s) if self.backoff_s else None,
            max_ack_pending=self.max_ack_pending,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
        )


class Bus:
    """A connection to NATS with JetStream, and nemstream's declarations on it."""

    def __init__(self, nc: Client, settings: BusSettings, *, publish_retry_s: float = 0.0) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.settings = settings
        self.publish_retry_s = publish_retry_s  # services: 0, their callers retry the whole file

    @property
    def connected(self) -> bool:
        """Whether the client is connected right now (for /readyz)."""
        return bool(self.nc.is_connected)

    async def ensure_streams(self) -> None:
        """Declare (or update) the NEM stream and the dead-letter stream."""
        s = self.settings
        await self._ensure_stream(
            StreamConfig(
                name=s.stream_name,
                subjects=["nem.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=timedelta(days=s.stream_max_age_days).total_seconds(),
                duplicate_window=s.stream_duplicate_window_s,
                num_replicas=s.stream_replicas,
                max_msg_size=1024 * 1024,
            )
        )
        await self._ensure_stream(
            StreamConfig(
                name=DEAD_LETTER_STREAM,
                subjects=[f"{DEAD_LETTER_PREFIX}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=timedelta(days=90).total_seconds(),
                num_replicas=s.stream_replicas,
            )
        )

    async def _settled(self, what: str, declare: Callable[[], Awaitable[T]]) -> T:
        """Run a declaration, retrying while the cluster elects a leader or a server restarts
        (a JetStream API timeout, no responders) for `DECLARE_RETRY_S` at least."""
        deadline = time.monotonic() + max(self.publish_retry_s, DECLARE_RETRY_S)
        pause = 0.25
        while True:
            try:
                return await declare()
            except _RETRYABLE as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("declaration_retry", what=what, error=repr(exc), retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _ensure_stream(self, config: StreamConfig) -> None:
        await self._settled(f"stream {config.name}", lambda: self._declare_stream(config))

    async def _declare_stream(self, config: StreamConfig) -> None:
        try:
            await self.js.stream_info(config.name or "")
        except NotFoundError:
            await self.js.add_stream(config)
            log.info("stream_created", stream=config.name)
            return
        await self.js.update_stream(config)

    async def ensure_consumer(self, spec: ConsumerSpec) -> None:
        """Declare a durable consumer, applying config changes to an existing one (a plain
        ``pull_subscribe`` would silently keep the old config)."""
        stream = self.settings.stream_name
        config = spec.config()
        try:
            await self.js.consumer_info(stream, spec.durable)
        except NotFoundError:
            await self.js.add_consumer(stream, config)
            log.info("consumer_created", stream=stream, durable=spec.durable)
            return
        # add_consumer with an existing durable name updates its config (the server checks
        # which fields may change)
        await self.js.add_consumer(stream, config)

    async def kv(self, bucket: str, *, history: int = 1, ttl_s: float | None = None) -> KeyValue:
        """A KV bucket for service state (file storage), created if missing."""
        try:
            return await self.js.key_value(bucket)
        except BucketNotFoundError:
            return await self.js.create_key_value(
                KeyValueConfig(
                    bucket=bucket,
                    history=history,
                    ttl=ttl_s,
                    storage=StorageType.FILE,
                    replicas=self.settings.stream_replicas,
                )
            )

    async def kv_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys of a KV bucket (optionally under a ``prefix.``), read from the bucket's stream
        state in one request. nats-py's ``KeyValue.keys()`` watches the bucket and can end its
        listing before the entries arrive under load (a race in its initial marker), which
        would make a service miss saved state. Deleted keys may be listed: their ``get``
        raises ``KeyNotFoundError``."""
        stream = f"KV_{bucket}"
        subjects = f"$KV.{bucket}.{prefix}.>" if prefix else f"$KV.{bucket}.>"
        info = await self.js.stream_info(stream, subjects_filter=subjects)
        start = len(f"$KV.{bucket}.")
        return sorted(subject[start:] for subject in (info.state.subjects or {}))

    async def publish(self, subject: str, body: bytes | BaseModel, *, msg_id: str) -> bool:
        """Publish to the stream with a deterministic ``Nats-Msg-Id``; returns False when the
        stream already had that id (a duplicate, dropped by the server). Retries through a
        server restart for `publish_retry_s` (the id makes a retry safe), then raises."""
        payload = body.model_dump_json().encode() if isinstance(body, BaseModel) else body
        deadline = time.monotonic() + self.publish_retry_s
        pause = 0.25
        while True:
            try:
                ack = await self.js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
                break
            except _RETRYABLE as exc:
                if time.monotonic() + pause > deadline:
                    PUBLISHED.labels(subject, "failed").inc()
                    raise
                log.warning("publish_retry", subject=subject, msg_id=msg_id, error=repr(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
        outcome = "duplicate" if ack.duplicate else "stored"
        PUBLISHED.labels(subject, outcome).inc()
        return not ack.duplicate

    async def dead_letter(
        self, durable: str, subject: str, reason: str, data: bytes, **extra: Any
    ) -> None:
        """Record a message that can never be processed, with why, for an operator to inspect."""
        record = {
            "durable": durable,
            "subject": subject,
            "reason": reason,
            "data": data.decode("utf-8", "replace"),
            **extra,
        }
        await self.js.publish(f"{DEAD_LETTER_PREFIX}.{durable}", json.dumps(record).encode())
        log.error("dead_letter", durable=durable, subject=subject, reason=reason, **extra)

    async def close(self) -> None:
        """Drain and close the connection (just close it if it is down: nothing to drain)."""
        if self.nc.is_closed:
            return
        try:
            await self.nc.drain()
        except Exception as exc:  # noqa: BLE001 - whatever stops a drain, close anyway
            log.info("nats_close_without_drain", reason=repr(exc))
            await self.nc.close()


async def connect(
    settings: BusSettings | None = None,
    *,
    name: str = "nemstream",
    servers: Sequence[str] | None = None,
    wait_s: float | None = None,
) -> Bus:
    """Connect to NATS and keep reconnecting forever, every connection event logged and counted.

    A server that is not up yet is waited for (with back-off) rather than failing the service;
    `wait_s` bounds that wait (None: forever), after which `BusUnavailable` says what to do."""
    settings = settings or BusSettings()
    # a comma list names the servers of a cluster (any one lets the client in; it learns the rest)
    urls = list(servers) if servers else [u.strip() for u in settings.nats_url.split(",") if u]

    ever_connected = False

    async def disconnected() -> None:
        CONNECTED.set(0)
        CONNECTION_EVENTS.labels("disconnected").inc()
        (log.warning if ever_connected else log.debug)("nats_disconnected", client=name)

    async def reconnected() -> None:
        CONNECTED.set(1)
        CONNECTION_EVENTS.labels("reconnected").inc()
        log.info("nats_reconnected", client=name)

    async def error(exc: Exception) -> None:
        CONNECTION_EVENTS.labels("error").inc()
        # a bounded first wait (a one-shot command) ends in one sentence, not a line per try
        quiet = wait_s is not None and not ever_connected
        (log.debug if quiet else log.warning)("nats_error", client=name, error=repr(exc))

    async def closed() -> None:
        CONNECTED.set(0)
        CONNECTION_EVENTS.labels("closed").inc()
        (log.info if ever_connected else log.debug)("nats_closed", client=name)

    nc = Client()
    options: dict[str, Any] = {
        "servers": urls,
        "name": name,
        "max_reconnect_attempts": -1,  # also the first connection: nats-py retries it itself
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5 if wait_s is None else max(0.5, min(5.0, wait_s)),
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
        "error_cb": error,
        "closed_cb": closed,
        **settings.auth_options(),
    }
    try:
        if wait_s is None:
            await nc.connect(**options)
        else:
            await asyncio.wait_for(nc.connect(**options), wait_s)
    except (TimeoutError, NoServersError, OSError) as exc:
        with contextlib.suppress(Exception):
            await nc.close()  # stop the client's own reconnect loop
        raise BusUnavailable(
            f"cannot reach NATS at {', '.join(urls)} after {wait_s:g} s: is nats-server "
            "running? set NEMSTREAM_NATS_URL to where it listens"
        ) from exc
    ever_connected = True
    CONNECTED.set(1)
    bus = Bus(nc, settings)
    await bus.ensure_streams()
    return bus
