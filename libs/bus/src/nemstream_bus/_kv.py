"""The few KV moves every service's state is built from, each named for what it decides.

NATS KV gives exactly-once decisions across processes through two server-side checks: ``create``
succeeds for one writer only, and ``update(last=revision)`` only if nobody wrote since that
revision. These helpers turn the errors those checks raise into answers (``None`` or ``False``:
someone else got there first), so call sites read as the decision they make.
"""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

Entry = KeyValue.Entry


async def kv_get(kv: KeyValue, key: str) -> Entry | None:
    """The key's entry, or None if it was never written (or was deleted)."""
    try:
        return await kv.get(key)
    except KeyNotFoundError:
        return None


async def kv_value(kv: KeyValue, key: str) -> bytes | None:
    """The key's value, or None if it was never written (or was deleted)."""
    entry = await kv_get(kv, key)
    return entry.value if entry is not None else None


async def kv_create(kv: KeyValue, key: str, value: bytes) -> int | None:
    """Write the key only if it does not exist; its revision, or None when it already did
    (another process claimed it first)."""
    try:
        return await kv.create(key, value)
    except KeyWrongLastSequenceError:
        return None


async def kv_swap(kv: KeyValue, key: str, value: bytes, *, revision: int | None) -> int | None:
    """Compare-and-set: write the key if it is still at `revision` (None: if it does not exist
    yet); the new revision, or None when someone else wrote it in between."""
    try:
        if revision is None:
            return await kv.create(key, value)
        return await kv.update(key, value, last=revision)
    except KeyWrongLastSequenceError:
        return None


async def kv_values(kv: KeyValue, keys: list[str]) -> dict[str, bytes]:
    """key -> value of the keys that hold one (deleted and empty keys left out)."""
    values = {}
    for key in keys:
        value = await kv_value(kv, key)
        if value:
            values[key] = value
    return values
