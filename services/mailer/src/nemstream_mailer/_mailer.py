"""New generating units: a DUID in SCADA that the unit registry does not list and that was
never seen before, announced once, in batches, by mail and on ``nem.registry.duid.v1``.

First-seen is recorded with a KV ``create`` (it fails if the key exists), so of two replicas
only one announces a DUID. The order makes it lossless: the DUID goes into the KV outbox
first, then first-seen is created, then the SCADA message is acknowledged; the outbox is
mailed once the oldest entry in it is `mailer_window_s` old, under a KV claim so one replica
sends it, and entries leave the outbox only after the SMTP server accepted the mail. A
restart finds the outbox as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import polars as pl
from nats.aio.msg import Msg
from nats.js.kv import KeyValue
from prometheus_client import Counter

from nemstream_bus import (
    Bus,
    ConsumeLoop,
    ConsumerSpec,
    kv_create,
    kv_get,
    kv_swap,
    kv_value,
    kv_values,
    typed,
)
from nemstream_contracts import REGISTRY_DUID, SCADA_UNIT, NewDuid, UnitScada
from nemstream_mailer.settings import MailerSettings
from nemstream_market import nem_time
from nemstream_notify import MailError, MailSender
from nemstream_runtime import get_logger

log = get_logger(__name__)

SEEN_BUCKET = "nemstream_duids"
BUCKET = "nemstream_mailer"
NEW = Counter("nemstream_new_duids", "DUIDs seen for the first time")
NO_REGISTRY = Counter(
    "nemstream_mailer_skipped_no_registry", "SCADA intervals not judged: no unit registry yet"
)
MAILS = Counter("nemstream_mailer_mails", "Mails by kind and outcome", ["kind", "outcome"])
CLAIM_TIMEOUT_S = 120.0  # a sender silent this long is taken to be dead
_UNSAFE = re.compile(r"[^-_=a-zA-Z0-9]")


def kv_key(duid: str) -> str:
    """A DUID as a KV key (DUIDs may hold characters KV keys cannot)."""
    return _UNSAFE.sub(lambda m: f"={ord(m.group()):02X}", duid)


@dataclass(frozen=True, slots=True)
class Sighting:
    """A new DUID as first seen."""

    duid: str
    interval: str  # ISO, NEM time
    scadavalue: float
    source_file: str
    noticed: float  # time.time() when it went into the outbox


def registry_info(registry: pl.DataFrame, duid: str) -> dict[str, str | None]:
    """Station, region and fuel the registry gives a DUID (all None if it does not list it)."""
    rows = registry.filter(pl.col("duid") == duid)
    if rows.is_empty():
        return {"station_name": None, "region": None, "fuel": None}
    row = rows.row(0, named=True)
    return {k: row.get(k) for k in ("station_name", "region", "fuel")}


def new_duid_mail(sightings: list[Sighting], registry: pl.DataFrame) -> tuple[str, str]:
    """Subject and body of one batch."""
    lines = [
        f"{len(sightings)} generating unit(s) appeared in AEMO's SCADA that the unit registry "
        "does not list:",
        "",
        f"{'DUID':<12} {'first interval (NEM)':<20} {'MW':>9}  station / region / fuel",
    ]
    for s in sorted(sightings, key=lambda s: (s.interval, s.duid)):
        info = registry_info(registry, s.duid)
        known = " / ".join(v or "?" for v in info.values())
        first = datetime.fromisoformat(s.interval).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{s.duid:<12} {first:<20} {s.scadavalue:>9.2f}  {known}")
    lines += ["", f"First seen in {sightings[0].source_file}."]
    duids = ", ".join(sorted(s.duid for s in sightings))
    return f"New NEM generating units: {duids}", "\n".join(lines)


class DuidMailer:
    """The consumer of ``nem.scada.unit.v1`` and the outbox."""

    def __init__(
        self,
        settings: MailerSettings,
        bus: Bus,
        registry: pl.DataFrame,
        mail: MailSender | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.mail = mail or MailSender(settings)
        self.registry = registry
        self.known = set(registry["duid"].to_list())
        self.seen: KeyValue | None = None
        self.kv: KeyValue | None = None
        self.loop = ConsumeLoop(
            bus,
            ConsumerSpec(settings.mailer_durable, (SCADA_UNIT,), max_deliver=-1),
            typed(UnitScada, self.handle),
        )

    async def start(self) -> KeyValue:
        """Bind the KV buckets."""
        self.seen = await self.bus.kv(SEEN_BUCKET)
        self.kv = await self.bus.kv(BUCKET)
        return self.kv

    def use_registry(self, registry: pl.DataFrame) -> None:
        """Judge new DUIDs against another registry (rebuilt)."""
        self.registry = registry
        self.known = set(registry["duid"].to_list())

    async def handle(self, event: UnitScada, message: Msg) -> None:
        """Put every unregistered, never-seen DUID of one SCADA interval in the outbox (none
        while no registry is at hand: without one every unit would look new)."""
        if not self.known:
            NO_REGISTRY.inc()
            return
        if self.kv is None or self.seen is None:
            await self.start()
        assert self.kv is not None and self.seen is not None
        for row in event.rows:
            if row.duid in self.known:
                continue
            key = kv_key(row.duid)
            if await kv_get(self.seen, key) is not None:
                continue  # announced before
            sighting = Sighting(
                row.duid,
                nem_time(event.interval).isoformat(),
                row.scadavalue,
                event.source_file,
                time.time(),
            )
            record = json.dumps(asdict(sighting)).encode()
            await self.kv.put(f"outbox.{key}", record)
            if await kv_create(self.seen, key, record) is None:
                continue  # another replica saw it at the same moment: its outbox entry is ours
            NEW.inc()
            info = registry_info(self.registry, row.duid)
            await self.bus.publish(
                REGISTRY_DUID,
                NewDuid(
                    feed="mailer",
                    source_file=event.source_file,
                    interval=event.interval,
                    duid=row.duid,
                    scadavalue=row.scadavalue,
                    station_name=info["station_name"],
                    regionid=info["region"],
                    fuel=info["fuel"],
                    in_registry=False,
                ),
                msg_id=f"duid:{key}",
            )
            log.info("duid_new", duid=row.duid, interval=sighting.interval, mw=row.scadavalue)

    async def _claim(self, claim: str) -> bool:
        """Take the right to send a batch: new, sent (clear up), or abandoned by a dead sender."""
        assert self.kv is not None
        stamp = f"sending:{time.time():.0f}".encode()
        if await kv_create(self.kv, claim, stamp) is not None:
            return True
        entry = await kv_get(self.kv, claim)
        if entry is None:  # cleared meanwhile: try again at the next check
            return False
        value = entry.value or b""
        if value == b"sent":
            return True
        started = float(value.split(b":", 1)[1]) if value.startswith(b"sending:") else 0.0
        if time.time() - started < CLAIM_TIMEOUT_S:
            return False  # another replica is sending it now
        return await kv_swap(self.kv, claim, stamp, revision=entry.revision) is not None

    async def outbox(self) -> dict[str, Sighting]:
        """The DUIDs waiting to be mailed, by KV key."""
        assert self.kv is not None
        values = await kv_values(self.kv, await self.bus.kv_keys(BUCKET, "outbox"))
        return {key: Sighting(**json.loads(value)) for key, value in values.items()}

    async def flush(self, *, force: bool = False) -> list[str]:
        """Mail the outbox if its oldest entry has waited the window; returns the DUIDs mailed."""
        if self.kv is None:
            await self.start()
        assert self.kv is not None
        pending = await self.outbox()
        if not pending:
            return []
        oldest = min(s.noticed for s in pending.values())
        if not force and time.time() - oldest < self.settings.mailer_window_s:
            return []
        batch = hashlib.blake2b(" ".join(sorted(pending)).encode(), digest_size=8).hexdigest()
        claim = f"batch.{batch}"
        if not await self._claim(claim):
            return []
        if await kv_value(self.kv, claim) == b"sent":  # sent before a crash; clear the outbox
            for key in pending:
                await self.kv.delete(key)
            return []
        subject, body = new_duid_mail(list(pending.values()), self.registry)
        try:
            await self.mail.send(subject, body)
        except MailError:
            await self.kv.delete(claim)  # retried at the next check: nothing lost
            MAILS.labels("new_duids", "failed").inc()
            raise
        for key in pending:
            await self.kv.delete(key)
        await self.kv.put(claim, b"sent")
        MAILS.labels("new_duids", "sent").inc()
        duids = sorted(s.duid for s in pending.values())
        log.info("duids_mailed", duids=duids)
        return duids
