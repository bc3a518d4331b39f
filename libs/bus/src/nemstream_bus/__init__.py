"""NATS JetStream for nemstream: the NEM stream, durable pull consumers declared explicitly,
KV buckets for service state, publishing with deterministic message ids, a consume loop with
ack/nak/term and dead letters, and a real nats-server process for `nemstream up` and tests."""

from nemstream_bus._bus import (
    DEAD_LETTER_PREFIX,
    DEAD_LETTER_STREAM,
    Bus,
    BusSettings,
    ConsumerSpec,
    connect,
)
from nemstream_bus._consume import BatchHandler, ConsumeLoop, Handler, Permanent, Transient
from nemstream_bus._server import NatsServer, NatsServerError, nats_server_binary, running_nats

__all__ = [
    "DEAD_LETTER_PREFIX",
    "DEAD_LETTER_STREAM",
    "BatchHandler",
    "Bus",
    "BusSettings",
    "ConsumeLoop",
    "ConsumerSpec",
    "Handler",
    "NatsServer",
    "NatsServerError",
    "Permanent",
    "Transient",
    "connect",
    "nats_server_binary",
    "running_nats",
]
