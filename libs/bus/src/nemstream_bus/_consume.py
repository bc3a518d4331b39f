"""The consume loop every consumer service runs on its durable pull consumer.

A handler processes one message and returns only once its effect is durable; the loop then acks.
Most handlers are *typed* (`typed`): the loop validates the body against its subject's contract
first, so a handler receives a model, never bytes, and an invalid body is dead-lettered with the
validation error as its reason (`decode_message`: the one decode step every consumer shares).
A handler raises `Permanent` for a message that can never be valid (terminated, dead-lettered)
and `Transient` for a failure worth retrying (nak'd with back-off); any other exception counts
as transient, bounded by the consumer's ``max_deliver``, whose advisory is watched: a message
that ran out of deliveries is dead-lettered too. The loop survives server restarts (it re-binds,
re-declaring the consumer if the server lost it) and stops cleanly: it finishes the batch in
hand, then unsubscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NotFoundError
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from nemstream_bus._bus import Bus, ConsumerSpec
from nemstream_contracts import Message, UnknownSubject, decode
from nemstream_runtime import get_logger

log = get_logger(__name__)

HANDLED = Counter(
    "nemstream_bus_messages_handled", "Messages handled by consumers", ["durable", "outcome"]
)
HANDLE_SECONDS = Histogram(
    "nemstream_bus_handle_seconds", "Time to handle one message", ["durable"]
)
MAX_DELIVERIES = Counter(
    "nemstream_bus_max_deliveries", "Messages that ran out of deliveries", ["durable"]
)


class Permanent(Exception):
    """This message can never be processed (invalid): terminate it and record a dead letter."""


class Transient(Exception):
    """Processing failed for now (a store not writable, a peer down): redeliver later."""

    def __init__(self, message: str, *, delay_s: float | None = None) -> None:
        self.delay_s = delay_s
        super().__init__(message)


Handler = Callable[[Msg], Awaitable[None]]
BatchHandler = Callable[[list[Msg]], Awaitable[dict[int, str]]]
"""Handles a whole fetched batch at once (a writer flushing one file for many messages):
returns {index in the batch: reason} for messages that can never be valid (terminated and
dead-lettered); the others are acknowledged. Raising `Transient` retries the whole batch."""


M = TypeVar("M", bound=Message)

REASON_MAX = 2000
"""Longest dead-letter reason kept (a validation error can list every bad row)."""


def decode_message(message: Msg, model: type[M] = Message) -> M:  # type: ignore[assignment]
    """The delivery's body validated against its subject's contract (and `model`), or
    `Permanent` saying why it never can be: an unknown subject, or the validation errors."""
    try:
        event = decode(message.subject, message.data)
    except UnknownSubject:
        raise Permanent(f"no contract for subject {message.subject}") from None
    except ValidationError as exc:
        raise Permanent(f"invalid {message.subject} message: {exc}"[:REASON_MAX]) from exc
    if not isinstance(event, model):
        raise Permanent(f"{message.subject} carries {type(event).__name__}, not {model.__name__}")
    return event


def typed(model: type[M], handle: Callable[[M, Msg], Awaitable[None]]) -> Handler:
    """A handler that receives the validated message (and the delivery, for its metadata);
    bodies that fail validation are terminated and dead-lettered before it is called."""

    async def handler(message: Msg) -> None:
        await handle(decode_message(message, model), message)

    return handler


T = TypeVar("T")


async def working(messages: list[Msg], work: Awaitable[T], ack_wait_s: float) -> T:
    """Run `work` on deliveries, telling the server it is still in progress every third of the
    ack wait, so a slow handler (retrying an SMS) keeps its messages while one that died loses
    them after the ack wait, not later."""
    task = asyncio.ensure_future(work)
    every = max(ack_wait_s / 3, 0.2)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            for message in messages:
                with contextlib.suppress(Exception):
                    await message.in_progress()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _delay(spec: ConsumerSpec, delivered: int) -> float:
    steps = spec.backoff_s or (1.0,)
    return steps[min(max(delivered - 1, 0), len(steps) - 1)]


class ConsumeLoop:
    """Fetch, handle, acknowledge; until `stop` is set."""

    def __init__(
        self,
        bus: Bus,
        spec: ConsumerSpec,
        handler: Handler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        batch: int = 64,
        fetch_timeout_s: float = 1.0,
        stop: asyncio.Event | None = None,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self.bus = bus
        self.spec = spec
        self.handler = handler
        self.batch_handler = batch_handler
        self.batch = batch
        self.fetch_timeout_s = fetch_timeout_s
        self.stop = stop or asyncio.Event()
        self.bound = False
        self.handled = 0

    async def run(self) -> None:
        """Consume until stopped (see the module docstring for what happens to each message)."""
        stream = self.bus.settings.stream_name
        advisory = await self.bus.nc.subscribe(
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{self.spec.durable}",
            cb=self._on_max_deliveries,
        )
        subscription = None
        pause = 0.5
        try:
            while not self.stop.is_set():
                if subscription is None:
                    try:
                        await self.bus.ensure_consumer(self.spec)
                        subscription = await self.bus.js.pull_subscribe_bind(
                            durable=self.spec.durable, stream=stream
                        )
                        self.bound = True
                        pause = 0.5
                        log.info("consumer_bound", durable=self.spec.durable)
                    except (
                        NatsTimeoutError,
                        NoRespondersError,
                        APIError,
                        ConnectionClosedError,
                    ) as exc:
                        log.warning(
                            "consumer_bind_failed", durable=self.spec.durable, error=repr(exc)
                        )
                        await self._sleep(pause)
                        pause = min(pause * 2, 10.0)
                        continue
                try:
                    messages = await subscription.fetch(self.batch, timeout=self.fetch_timeout_s)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except (NotFoundError, APIError, NoRespondersError, ConnectionClosedError) as exc:
                    # the server restarted or lost the consumer: declare it again and re-bind
                    log.warning("consumer_fetch_failed", durable=self.spec.durable, error=repr(exc))
                    self.bound = False
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
                    subscription = None
                    await self._sleep(pause)
                    continue
                if self.batch_handler is not None:
                    await self._handle_batch(messages)
                else:
                    for message in messages:
                        await self._handle(message)
        finally:
            self.bound = False
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()
            with contextlib.suppress(Exception):
                await advisory.unsubscribe()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    async def _handle_batch(self, messages: list[Msg]) -> None:
        assert self.batch_handler is not None
        durable = self.spec.durable
        started = time.perf_counter()
        try:
            invalid = await working(messages, self.batch_handler(messages), self.spec.ack_wait_s)
        except Transient as exc:
            delivered = max((m.metadata.num_delivered for m in messages if m.metadata), default=1)
            delay = exc.delay_s if exc.delay_s is not None else _delay(self.spec, delivered)
            for message in messages:
                await message.nak(delay=delay)
            HANDLED.labels(durable, "retried").inc(len(messages))
            log.warning(
                "batch_retry",
                durable=durable,
                messages=len(messages),
                delay_s=delay,
                reason=str(exc),
            )
            return
        except Exception as exc:  # unknown failures are retried, bounded by max_deliver
            for message in messages:
                await message.nak(delay=_delay(self.spec, 1))
            HANDLED.labels(durable, "failed").inc(len(messages))
            log.exception("batch_failed", durable=durable, messages=len(messages), error=repr(exc))
            return
        finally:
            HANDLE_SECONDS.labels(durable).observe(time.perf_counter() - started)
        for index, message in enumerate(messages):
            if index in invalid:
                await self._terminate(message, invalid[index])
            else:
                await message.ack()
                HANDLED.labels(durable, "acked").inc()
                self.handled += 1

    async def _handle(self, message: Msg) -> None:
        assert self.handler is not None
        durable = self.spec.durable
        delivered = message.metadata.num_delivered if message.metadata else 1
        started = time.perf_counter()
        try:
            await working([message], self.handler(message), self.spec.ack_wait_s)
        except Permanent as exc:
            await self._terminate(message, str(exc))
        except Transient as exc:
            delay = exc.delay_s if exc.delay_s is not None else _delay(self.spec, delivered)
            await message.nak(delay=delay)
            HANDLED.labels(durable, "retried").inc()
            log.warning(
                "message_retry",
                durable=durable,
                subject=message.subject,
                delivered=delivered,
                delay_s=delay,
                reason=str(exc),
            )
        except Exception as exc:  # unknown failures are retried, bounded by max_deliver
            delay = _delay(self.spec, delivered)
            await message.nak(delay=delay)
            HANDLED.labels(durable, "failed").inc()
            log.exception(
                "message_failed",
                durable=durable,
                subject=message.subject,
                delivered=delivered,
                error=repr(exc),
            )
        else:
            await message.ack()
            HANDLED.labels(durable, "acked").inc()
            self.handled += 1
        finally:
            HANDLE_SECONDS.labels(durable).observe(time.perf_counter() - started)

    async def _terminate(self, message: Msg, reason: str) -> None:
        """A message that can never be processed: terminated, counted, dead-lettered."""
        await message.term()
        HANDLED.labels(self.spec.durable, "terminated").inc()
        await self.bus.dead_letter(
            self.spec.durable,
            message.subject,
            reason,
            message.data,
            stream_seq=message.metadata.sequence.stream if message.metadata else None,
        )

    async def _on_max_deliveries(self, advisory: Msg) -> None:
        MAX_DELIVERIES.labels(self.spec.durable).inc()
        try:
            event = json.loads(advisory.data)
            sequence = int(event["stream_seq"])
            stored = await self.bus.js.get_msg(self.bus.settings.stream_name, sequence)
        except Exception as exc:  # noqa: BLE001 - an advisory must never stop the loop
            log.error("max_deliveries_unreadable", durable=self.spec.durable, error=repr(exc))
            return
        await self.bus.dead_letter(
            self.spec.durable,
            stored.subject or "",
            f"gave up after {self.spec.max_deliver} deliveries",
            stored.data or b"",
            stream_seq=sequence,
        )
