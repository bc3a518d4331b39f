"""The price-alert consumer: judge each region's pricing-run price in interval order, send one
SMS per transition to every recipient, publish the transition, remember it all in NATS KV.

Order: one price in flight at a time (``max_ack_pending = 1``), so a redelivered price is
judged before any later one; a process that dies holding it hands it on after
``NEMSTREAM_ALERTS_ACK_WAIT_S`` (seconds: a live process keeps extending it while it works).

Exactly once per transition and recipient: before a text is sent its *intent* is recorded in KV
(``sent.<alert>.<to>`` = ``intent:<time>``), after Twilio accepts it the message sid
(``sent:<sid>``). The region's state (with the interval it was judged at) is updated only after
every recipient has theirs; the price is acknowledged last. A restart or redelivery judges the
interval again: a recipient with a recorded sid is skipped; one with only an intent (the
process died while Twilio was answering) is looked up in Twilio's Messages list - same
recipient and body, created since the intent - and sent only if Twilio has no such text. An
interval at or before the region's judged interval (a replay, a late file) changes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from nats.aio.msg import Msg
from nats.js.kv import KeyValue
from prometheus_client import Counter

from nemstream_alerts._state import Event, State, Thresholds, alert_text, judge, threshold_of
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import (
    Bus,
    ConsumeLoop,
    ConsumerSpec,
    Transient,
    kv_get,
    kv_swap,
    kv_value,
    typed,
)
from nemstream_contracts import ALERTS_PRICE, DISPATCH_PRICE, DispatchPrice, PriceAlert
from nemstream_market import PRICING_RUN, nem_time
from nemstream_notify import Outcome, SmsSender, recipient_key
from nemstream_runtime import crash_point, get_logger

log = get_logger(__name__)

BUCKET = "nemstream_alerts"
TRANSITIONS = Counter("nemstream_alert_transitions", "Price state transitions", ["region", "event"])
SKIPPED = Counter("nemstream_alert_skipped", "Prices not judged", ["reason"])
UNSENT = Counter(
    "nemstream_alert_sms_unsent", "SMS given up (permanent failure or too old)", ["reason"]
)
FOUND = Counter(
    "nemstream_alert_sms_found",
    "Texts found already sent at Twilio after a restart (so not sent again)",
)

LOOKUP_SKEW = timedelta(seconds=60)
"""Allowance for the difference between this machine's clock and Twilio's when looking up a
text sent since an intent."""


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
                # no server-side back-off: a crash's redelivery comes after ack_wait, never after
                # minutes; failures that deserve a pause nak with their own delay
                backoff_s=(),
                max_ack_pending=1,  # strictly in order, also across a crash and redelivery
            ),
            typed(DispatchPrice, self.handle),
            batch=1,
        )

    async def start(self) -> KeyValue:
        """Bind the KV bucket."""
        self.kv = await self.bus.kv(BUCKET, history=1)
        return self.kv

    async def handle(self, event: DispatchPrice, message: Msg) -> None:
        """Judge every watched region's pricing-run price of one interval."""
        for row in event.rows:
            if row.intervention == PRICING_RUN and row.regionid in self.settings.regions:
                await self.judge_price(row.regionid, row.rrp, event.interval, event.source_file)

    async def judge_price(self, region: str, rrp: float, interval: datetime, source: str) -> None:
        """Apply one price to one region: alert on a transition, then record the state."""
        kv = self.kv or await self.start()
        key = f"region.{region}"
        entry = await kv_get(kv, key)
        current = RegionState.load(entry.value if entry else None)
        revision = entry.revision if entry else None
        interval = nem_time(interval)
        if current.interval and interval <= datetime.fromisoformat(current.interval):
            SKIPPED.labels("not_newer").inc()
            return
        state, change = judge(current.state, rrp, self.limits)
        if change is not None:
            await self._deliver(region, change, current.state, rrp, interval, source)
        updated = RegionState(state, interval.isoformat(), rrp).dump()
        if await kv_swap(kv, key, updated, revision=revision) is None:
            raise Transient(f"{region} state changed under us")  # another replica judged

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
                key = f"sent.{name}.{recipient_key(recipient)}"
                retry |= await self.send_once(key, recipient, text) == "retry"
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

    async def send_once(self, key: str, recipient: str, text: str) -> Outcome:
        """Send one recipient their text exactly once, recorded under `key` (`send_once`; also
        the test texts of the status page)."""
        return await send_once(self.kv or await self.start(), self.sms, key, recipient, text)


async def send_once(kv: KeyValue, sms: SmsSender, key: str, recipient: str, text: str) -> Outcome:
    """Send one recipient their text exactly once, recorded under `key` in `kv` (see the module
    docstring): ``sent`` (now or before), ``failed`` (refused for good, never retried) or
    ``retry`` (Twilio unreachable: not delivered yet, try again later)."""
    record = await kv_value(kv, key)
    if record == b"failed":
        return "failed"
    if record is not None and not record.startswith(b"intent:"):
        return "sent"  # sent before a restart or redelivery
    if record is not None:
        since = datetime.fromtimestamp(float(record.split(b":", 1)[1]), UTC) - LOOKUP_SKEW
        sid = await sms.find(recipient, text, since=since)
        if sid is not None:
            await kv.put(key, f"sent:{sid}".encode())
            FOUND.inc()
            log.info("sms_found_already_sent", sid=sid, key=key)
            return "sent"
    await kv.put(key, f"intent:{time.time():.3f}".encode())
    crash_point("sms_intent")
    result = await sms.send(recipient, text)
    if result.outcome == "sent":
        await kv.put(key, f"sent:{result.sid or 'dry-run'}".encode())
        crash_point("sms_recorded")
    elif result.outcome == "failed":
        await kv.put(key, b"failed")  # permanent: never retried
        UNSENT.labels("failed").inc()
    return result.outcome
