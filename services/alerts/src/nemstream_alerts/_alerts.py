"""The price-alert consumer: judge each region's pricing-run price in interval order, send one
SMS per transition to every recipient, publish the transition, remember it all in NATS KV.

Order: one price in flight at a time (``max_ack_pending = 1``), so a redelivered price is
judged before any later one. Exactly once per transition: each recipient's delivery is
recorded in KV (``sent.<alert>.<to>``) right after Twilio accepts it, and the region's state
(with the interval it was judged at) is updated only after every recipient has theirs; the
message is acknowledged last. A restart or a redelivery judges the interval again, finds the
deliveries recorded, and sends nothing twice; an interval at or before the region's judged
interval (a replay, a late file) changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from prometheus_client import Counter
from pydantic import ValidationError

from nemstream_alerts._state import Event, State, Thresholds, alert_text, judge, threshold_of
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import Bus, ConsumeLoop, ConsumerSpec, Permanent, Transient
from nemstream_contracts import (
    ALERTS_PRICE,
    DISPATCH_PRICE,
    NEM_TZ,
    DispatchPrice,
    PriceAlert,
    decode,
)
from nemstream_notify import SmsSender, recipient_key
from nemstream_runtime import get_logger

log = get_logger(__name__)

BUCKET = "nemstream_alerts"
TRANSITIONS = Counter("nemstream_alert_transitions", "Price state transitions", ["region", "event"])
SKIPPED = Counter("nemstream_alert_skipped", "Prices not judged", ["reason"])
UNSENT = Counter(
    "nemstream_alert_sms_unsent", "SMS given up (permanent failure or too old)", ["reason"]
)


@dataclass(frozen=True, slots=True)
class RegionState:
    """What a region's state is, and as of which interval."""

    state: State = "normal"
    interval: str | None = None  # ISO, NEM time
    rrp: float | None = None

    def dump(self) -> bytes:
        """JSON for KV."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def load(cls, raw: bytes | None) -> RegionState:
        """From KV (a new region is normal)."""
        return cls(**json.loads(raw)) if raw else cls()


def alert_id(region: str, interval: datetime, event: Event) -> str:
    """KV- and message-id-safe name of one transition."""
    return f"{region}_{interval:%Y%m%d%H%M}_{event}"


class PriceAlerts:
    """The consumer of ``nem.dispatch.price.v1``."""

    def __init__(self, settings: AlertSettings, bus: Bus, sms: SmsSender | None = None) -> None:
        self.settings = settings
        self.bus = bus
        self.sms = sms or SmsSender(settings)
        self.limits = Thresholds(
            settings.alert_high, settings.alert_extreme, settings.alert_recover
        )
        self.kv: KeyValue | None = None
        self.loop = ConsumeLoop(
            bus,
            ConsumerSpec(
                settings.alerts_durable,
                (DISPATCH_PRICE,),
                max_deliver=-1,
                ack_wait_s=settings.alerts_ack_wait_s,
                backoff_s=(settings.alerts_ack_wait_s, 30.0, 60.0, 300.0),
                max_ack_pending=1,  # strictly in order, also across a crash and redelivery
            ),
            self.handle,
            batch=1,
        )

    async def start(self) -> KeyValue:
        """Bind the KV bucket."""
        self.kv = await self.bus.kv(BUCKET, history=1)
        return self.kv

    async def handle(self, message: Msg) -> None:
        """Judge every watched region's pricing-run price of one interval."""
        try:
            event = decode(message.subject, message.data)
        except ValidationError as exc:
            raise Permanent(f"invalid {message.subject}: {exc.error_count()} errors") from exc
        if not isinstance(event, DispatchPrice):
            raise Permanent(f"not a dispatch price: {type(event).__name__}")
        for row in event.rows:
            if row.intervention == 0 and row.regionid in self.settings.regions:
                await self.judge_price(row.regionid, row.rrp, event.interval, event.source_file)

    async def judge_price(self, region: str, rrp: float, interval: datetime, source: str) -> None:
        """Apply one price to one region: alert on a transition, then record the state."""
        kv = self.kv or await self.start()
        key = f"region.{region}"
        try:
            entry = await kv.get(key)
            current, revision = RegionState.load(entry.value), entry.revision
        except KeyNotFoundError:
            current, revision = RegionState(), None
        interval = interval.astimezone(NEM_TZ)
        if current.interval and interval <= datetime.fromisoformat(current.interval):
            SKIPPED.labels("not_newer").inc()
            return
        state, change = judge(current.state, rrp, self.limits)
        if change is not None:
            await self._deliver(region, change, current.state, rrp, interval, source)
        updated = RegionState(state, interval.isoformat(), rrp).dump()
        try:
            if revision is None:
                await kv.create(key, updated)
            else:
                await kv.update(key, updated, last=revision)
        except KeyWrongLastSequenceError as exc:  # another replica judged meanwhile
            raise Transient(f"{region} state changed under us") from exc

    async def _deliver(
        self,
        region: str,
        change: Event,
        previous: State,
        rrp: float,
        interval: datetime,
        source: str,
    ) -> None:
        kv = self.kv
        assert kv is not None
        name = alert_id(region, interval, change)
        text = alert_text(region, change, rrp, interval)
        bound = log.bind(region=region, interval=interval.isoformat(), alert=change, rrp=rrp)
        age = (datetime.now(UTC) - interval).total_seconds()
        retry = False
        if age > self.settings.alert_max_age_s:
            bound.info("alert_too_old_for_sms", age_s=round(age))
            UNSENT.labels("too_old").inc()
        else:
            for recipient in self.settings.sms_recipients:
                sent_key = f"sent.{name}.{recipient_key(recipient)}"
                try:
                    await kv.get(sent_key)
                    continue  # delivered before a restart or redelivery
                except KeyNotFoundError:
                    pass
                outcome = await self.sms.send(recipient, text)
                if outcome == "sent":
                    await kv.put(sent_key, b"sent")
                    if self.settings.alerts_crash_at == "sms_recorded":
                        log.warning("fault_injection_exit", point="sms_recorded")
                        os._exit(86)
                elif outcome == "failed":
                    await kv.put(sent_key, b"failed")  # permanent: never retried
                    UNSENT.labels("failed").inc()
                else:
                    retry = True
        if retry:
            raise Transient(f"SMS for {name} not yet delivered to every recipient", delay_s=30.0)
        alert = PriceAlert(
            feed="alerts",
            source_file=source,
            interval=interval,
            regionid=region,
            state=change,
            previous_state=previous,
            rrp=rrp,
            threshold=threshold_of(change, self.limits),
        )
        await self.bus.publish(ALERTS_PRICE, alert, msg_id=f"alert:{name}")
        await kv.put(f"log.{interval:%Y%m%d}.{name}", text.encode())
        TRANSITIONS.labels(region, change).inc()
        bound.info("price_alert", text=text, previous=previous)
