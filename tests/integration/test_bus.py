"""The bus library against a real nats-server: declarations, dedupe, the consume loop's ack,
retry and dead-letter paths, max-delivery advisories, and a server restart."""

from __future__ import annotations

import asyncio
import json

import pytest
from nats.aio.msg import Msg
from nats.js.api import RetentionPolicy, StorageType

from nemstream_bus import (
    DEAD_LETTER_STREAM,
    Bus,
    BusSettings,
    ConsumeLoop,
    ConsumerSpec,
    NatsServer,
    Permanent,
    Transient,
    connect,
)
from nemstream_testing import wait_until


async def _count(bus: Bus, stream: str) -> int:
    return int((await bus.js.stream_info(stream)).state.messages)


async def test_streams_are_declared_as_the_architecture_says(bus: Bus) -> None:
    info = await bus.js.stream_info("NEM")
    config = info.config
    assert config.subjects == ["nem.>"]
    assert config.retention == RetentionPolicy.LIMITS
    assert config.storage == StorageType.FILE
    assert config.duplicate_window == 600
    assert config.max_age == 14 * 24 * 3600
    assert (await bus.js.stream_info(DEAD_LETTER_STREAM)).config.subjects == ["deadletter.>"]


async def test_consumer_config_changes_are_applied(bus: Bus) -> None:
    await bus.ensure_consumer(ConsumerSpec("writer", ("nem.dispatch.price.v1",), max_deliver=5))
    await bus.ensure_consumer(
        ConsumerSpec("writer", ("nem.dispatch.price.v1", "nem.scada.unit.v1"), max_deliver=7)
    )
    info = await bus.js.consumer_info("NEM", "writer")
    assert info.config.max_deliver == 7
    assert sorted(info.config.filter_subjects or []) == [
        "nem.dispatch.price.v1",
        "nem.scada.unit.v1",
    ]


async def test_publish_is_deduplicated_by_message_id(bus: Bus) -> None:
    assert await bus.publish("nem.test.v1", b"{}", msg_id="a") is True
    assert await bus.publish("nem.test.v1", b"{}", msg_id="a") is False
    assert await bus.publish("nem.test.v1", b"{}", msg_id="b") is True
    assert await _count(bus, "NEM") == 2


async def test_a_publish_no_stream_answers_is_retried_until_one_does(bus: Bus) -> None:
    # what a publish meets while a clustered stream's leader moves: "no responders" (nats-py's
    # NoStreamResponseError); a one-shot command must ride it out, not give up at once
    await bus.js.delete_stream("NEM")
    bus.publish_retry_s = 10.0
    publishing = asyncio.create_task(bus.publish("nem.test.v1", b"{}", msg_id="late"))
    await asyncio.sleep(0.6)
    assert not publishing.done()  # still retrying
    await bus.ensure_streams()  # the stream answers again
    assert await asyncio.wait_for(publishing, 10) is True
    assert await _count(bus, "NEM") == 1


async def test_consume_loop_acks_retries_and_dead_letters(bus: Bus) -> None:
    seen: list[bytes] = []
    attempts: dict[bytes, int] = {}

    async def handler(message: Msg) -> None:
        attempts[message.data] = attempts.get(message.data, 0) + 1
        if message.data == b"bad":
            raise Permanent("not a valid message")
        if message.data == b"flaky" and attempts[message.data] < 3:
            raise Transient("store busy", delay_s=0.05)
        seen.append(message.data)

    for i, body in enumerate([b"ok-1", b"bad", b"flaky", b"ok-2"]):
        await bus.publish("nem.test.v1", body, msg_id=str(i))
    loop = ConsumeLoop(
        bus, ConsumerSpec("t1", ("nem.test.v1",), backoff_s=(0.05,)), handler, fetch_timeout_s=0.2
    )
    task = asyncio.create_task(loop.run())

    async def done() -> bool:
        return len(seen) == 3

    await wait_until(done)
    loop.stop.set()
    await task
    assert seen == [b"ok-1", b"ok-2", b"flaky"]  # the flaky one came back after retries
    assert attempts[b"flaky"] == 3 and attempts[b"bad"] == 1  # terminated: never redelivered
    dead = await bus.js.get_last_msg(DEAD_LETTER_STREAM, "deadletter.t1")
    record = json.loads(dead.data or b"{}")
    assert record["reason"] == "not a valid message" and record["data"] == "bad"


@pytest.mark.faults
async def test_messages_that_keep_failing_are_dead_lettered_by_the_advisory(bus: Bus) -> None:
    async def handler(message: Msg) -> None:
        raise RuntimeError("boom")

    await bus.publish("nem.test.v1", b"poison", msg_id="p")
    loop = ConsumeLoop(
        bus,
        ConsumerSpec("t2", ("nem.test.v1",), max_deliver=3, backoff_s=(0.05,), ack_wait_s=1.0),
        handler,
        fetch_timeout_s=0.2,
    )
    task = asyncio.create_task(loop.run())

    async def dead_lettered() -> bool:
        return await _count(bus, DEAD_LETTER_STREAM) == 1

    await wait_until(dead_lettered)
    loop.stop.set()
    await task
    dead = await bus.js.get_last_msg(DEAD_LETTER_STREAM, "deadletter.t2")
    record = json.loads(dead.data or b"{}")
    assert record["reason"] == "gave up after 3 deliveries" and record["data"] == "poison"


@pytest.mark.faults
async def test_server_restart_loses_and_doubles_nothing(nats_server: NatsServer) -> None:
    producer = await connect(BusSettings(nats_url=nats_server.url), name="p", wait_s=10)
    consumer = await connect(BusSettings(nats_url=nats_server.url), name="c", wait_s=10)
    received: list[bytes] = []

    async def handler(message: Msg) -> None:
        received.append(message.data)

    loop = ConsumeLoop(consumer, ConsumerSpec("t3", ("nem.test.v1",)), handler, fetch_timeout_s=0.2)
    task = asyncio.create_task(loop.run())
    try:
        for i in range(20):
            await producer.publish("nem.test.v1", str(i).encode(), msg_id=f"m{i}")

        async def first_half() -> bool:
            return len(received) == 20

        await wait_until(first_half)
        await nats_server.restart()  # same port, same store

        async def back() -> bool:
            return producer.connected and loop.bound

        await wait_until(back, within=30)
        for i in range(10, 40):  # 10..19 again: duplicates inside the window are dropped
            await producer.publish("nem.test.v1", str(i).encode(), msg_id=f"m{i}")

        async def all_in() -> bool:
            return len(received) == 40

        await wait_until(all_in, within=30)
        assert sorted(int(x) for x in received) == list(range(40))
        assert await _count(producer, "NEM") == 40
    finally:
        loop.stop.set()
        await task
        await producer.close()
        await consumer.close()


async def test_kv_create_is_atomic(bus: Bus) -> None:
    from nats.js.errors import KeyWrongLastSequenceError

    kv = await bus.kv("test_bucket")
    await kv.create("a", b"1")
    with pytest.raises(KeyWrongLastSequenceError):
        await kv.create("a", b"2")


async def test_kv_keys_lists_every_key_at_once(bus: Bus) -> None:
    kv = await bus.kv("nemstream_test_keys")
    for key in ("outbox.A", "outbox.B", "batch.1"):
        await kv.put(key, b"x")
    # read straight after writing, many times: no listing may come back short
    for _ in range(20):
        assert await bus.kv_keys("nemstream_test_keys", "outbox") == ["outbox.A", "outbox.B"]
    assert await bus.kv_keys("nemstream_test_keys") == ["batch.1", "outbox.A", "outbox.B"]
