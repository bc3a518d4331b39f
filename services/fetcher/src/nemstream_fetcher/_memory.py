"""What a fetcher remembers, durably, in NATS KV: each file it published, claimed or gave up on.

A file is *claimed* before it is processed (KV ``create``: only one fetcher wins), then marked
*published* once all its events are stored in the stream. A claim left by a fetcher that died
is taken over after a lease; a file that fails to parse is retried on later cycles and then
*quarantined* (bytes kept on disk, reason recorded). A restart, a re-posted file or a second
fetcher therefore never republishes; the stream's duplicate window is the second guard.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from nats.js.kv import KeyValue

from nemstream_bus import kv_create, kv_get, kv_swap

BUCKET = "nemstream_fetcher"
_UNSAFE = re.compile(r"[^-/_=.a-zA-Z0-9]")

PUBLISHED = "published"
QUARANTINED = "quarantined"
CLAIMED = "claimed"
FAILED = "failed"


def key_for(feed: str, name: str) -> str:
    """KV key of a file: ``<feed>.<name>`` with characters KV refuses replaced."""
    return f"{feed}.{_UNSAFE.sub('_', name)}"


@dataclass(slots=True)
class Record:
    """A file's state."""

    status: str
    at: float
    attempts: int = 0
    reason: str | None = None
    owner: str | None = None
    events: int | None = None

    def dump(self) -> bytes:
        """JSON bytes for KV."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}).encode()


def _load(raw: bytes | None) -> Record | None:
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    return Record(**data)


class FileMemory:
    """One feed's memory of files, over a KV bucket."""

    def __init__(self, kv: KeyValue, feed: str, owner: str, *, lease_s: float = 120.0) -> None:
        self.kv = kv
        self.feed = feed
        self.owner = owner
        self.lease_s = lease_s
        self.done: set[str] = set()  # names published or quarantined (never to be processed)

    async def load(self, keys: list[str]) -> int:
        """Read which of the feed's keys (``Bus.kv_keys(BUCKET, feed)``) are finished (at
        start-up); returns how many."""
        prefix = f"{self.feed}."
        for key in (k for k in keys if k.startswith(prefix)):
            record = await self._get(key)
            if record is not None and record.status in (PUBLISHED, QUARANTINED):
                self.done.add(key)
        return len(self.done)

    def finished(self, name: str) -> bool:
        """Whether a file was published or quarantined already (as far as this process knows)."""
        return key_for(self.feed, name) in self.done

    async def _get(self, key: str) -> Record | None:
        entry = await kv_get(self.kv, key)
        return _load(entry.value) if entry is not None else None

    async def claim(self, name: str) -> Record | None:
        """Claim a file for processing; None if it is done, or claimed by a live fetcher.
        Returns the previous record (for its attempt count) or a fresh one."""
        key = key_for(self.feed, name)
        now = time.time()
        mine = Record(CLAIMED, now, owner=self.owner)
        if await kv_create(self.kv, key, mine.dump()) is not None:
            return Record(CLAIMED, now, owner=self.owner)
        entry = await kv_get(self.kv, key)
        if entry is None:
            return None
        record = _load(entry.value)
        if record is None:
            return None
        if record.status in (PUBLISHED, QUARANTINED):
            self.done.add(key)
            return None
        if (
            record.status == CLAIMED
            and record.owner != self.owner
            and now - record.at < self.lease_s
        ):
            return None  # another fetcher is on it
        mine.attempts = record.attempts
        if await kv_swap(self.kv, key, mine.dump(), revision=entry.revision) is None:
            return None  # someone else took it over first
        return mine

    async def published(self, name: str, events: int, *, rejected: str | None = None) -> None:
        """All of a file's events are in the stream (`rejected`: the tables quarantined)."""
        key = key_for(self.feed, name)
        record = Record(PUBLISHED, time.time(), owner=self.owner, events=events, reason=rejected)
        await self.kv.put(key, record.dump())
        self.done.add(key)

    async def failed(self, name: str, attempts: int, reason: str) -> None:
        """Processing failed; a later cycle may try again."""
        record = Record(FAILED, time.time(), attempts=attempts, reason=reason, owner=self.owner)
        await self.kv.put(key_for(self.feed, name), record.dump())

    async def quarantined(self, name: str, attempts: int, reason: str) -> None:
        """Given up on: never tried again (the bytes are kept for an operator)."""
        key = key_for(self.feed, name)
        record = Record(
            QUARANTINED, time.time(), attempts=attempts, reason=reason, owner=self.owner
        )
        await self.kv.put(key, record.dump())
        self.done.add(key)

    async def release(self, name: str) -> None:
        """Drop a claim (a download failed: the next cycle tries again)."""
        key = key_for(self.feed, name)
        entry = await kv_get(self.kv, key)
        if entry is None:
            return
        record = _load(entry.value)
        if record is not None and record.status == CLAIMED and record.owner == self.owner:
            await self.kv.delete(key, last=entry.revision)
