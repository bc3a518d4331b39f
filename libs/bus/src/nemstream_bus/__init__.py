"""NATS JetStream for nemstream: the NEM stream, durable pull consumers declared explicitly,
KV buckets and the decisions made on them, publishing with deterministic message ids, a consume
loop with typed handlers, ack/nak/term and dead letters, the skeleton every service runs in, and
a real nats-server process for `nemstream up` and tests."""

from nemstream_bus._bus import (
    DEAD_LETTER_PREFIX,
    DEAD_LETTER_STREAM,
    Bus,
    BusSettings,
    BusUnavailable,
    ConsumerSpec,
    connect,
)
from nemstream_bus._consume import (
    BatchHandler,
    ConsumeLoop,
    Handler,
    Permanent,
    Transient,
    decode_message,
    typed,
)
from nemstream_bus._kv import Entry, kv_create, kv_get, kv_swap, kv_value, kv_values
from nemstream_bus._server import NatsServer, NatsServerError, nats_server_binary, running_nats
from nemstream_bus._service import Service, one_shot, run_one_shot, running_service

__all__ = [
    "DEAD_LETTER_PREFIX",
    "DEAD_LETTER_STREAM",
    "BatchHandler",
    "Bus",
    "BusSettings",
    "BusUnavailable",
    "ConsumeLoop",
    "ConsumerSpec",
    "Entry",
    "Handler",
    "NatsServer",
    "NatsServerError",
    "Permanent",
    "Service",
    "Transient",
    "connect",
    "decode_message",
    "kv_create",
    "kv_get",
    "kv_swap",
    "kv_value",
    "kv_values",
    "nats_server_binary",
    "one_shot",
    "run_one_shot",
    "running_nats",
    "running_service",
    "typed",
]
