"""The early-warning consumer (issue 14): P5MIN and pre-dispatch runs and the dispatch price, in
stream order, through each region's warning machine (`_forecast_state`); one SMS per warning,
escalation and easing to every recipient, every change published on ``nem.alerts.forecast.v1``,
the state in NATS KV.

Its own durable consumer (``NEMSTREAM_FORECAST_ALERTS_DURABLE``, filter subjects
``nem.dispatch.price.v1``, ``nem.p5min.price.v1``, ``nem.predispatch.price.v1``), one message
in flight at a time, so a forecast never holds up a price alert and the dispatch prices that end
an episode are seen in order with the runs. Exactly once as the price alerts: each recipient's
intent, then Twilio sid, in KV before the region's state (``forecast.<region>``) is swapped,
the message acknowledged last; a restart or redelivery takes the input in again: a recipient
with a sid is skipped, one with only an intent looked up at Twilio, and an input no newer than
the region's newest of its kind (a replay, a stale run) changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from nats.aio.msg import Msg
from nats.js.kv import KeyValue
from prometheus_client import Counter, Histogram

from nemstream_alerts._alerts import BUCKET, UNSENT, send_once
from nemstream_alerts._forecast_state import (
    ForecastLimits,
    ForecastState,
    Transition,
    advance,
    forecast_text,
    with_dispatch,
    with_p5min,
    with_predispatch,
)
from nemstream_alerts.settings import AlertSettings
from nemstream_bus import (
    Bus,
    ConsumeLoop,
    ConsumerSpec,
    Permanent,
    Transient,
    decode_message,
    kv_get,
    kv_swap,
)
from nemstream_contracts import (
    ALERTS_FORECAST,
    DISPATCH_PRICE,
    P5MIN_PRICE,
    PREDISPATCH_PRICE,
    DispatchPrice,
    ForecastAlert,
    Message,
    P5minPrice,
    PredispatchPrice,
)
from nemstream_market import PRICING_RUN, nem_time
from nemstream_notify import SmsSender, recipient_key
from nemstream_runtime import get_logger

log = get_logger(__name__)

WARNINGS = Counter(
    "nemstream_forecast_alert_transitions",
    "Early-warning changes (high, extreme, eased: texted; arrived, passed: silent)",
    ["region", "event"],
)
INPUTS_SKIPPED = Counter(
    "nemstream_forecast_alert_skipped",
    "Inputs no newer than the region's newest of their kind (stale or replayed)",
    ["kind"],
)
LEAD = Histogram(
    "nemstream_forecast_alert_lead_minutes",
    "Minutes from a warning's run to the interval it names",
    buckets=(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240),
)

Update = Callable[[ForecastState], ForecastState | None]


def forecast_alert_id(region: str, transition: Transition) -> str:
    """KV- and message-id-safe name of one warning change."""
    return f"{region}_{transition.now:%Y%m%d%H%M}_forecast{transition.episode}-{transition.event}"


class ForecastAlerts:
    """The consumer of the forecasts (and the dispatch price, which ends warnings)."""

    def __init__(self, settings: AlertSettings, bus: Bus, sms: SmsSender | None = None) -> None:
        self.settings = settings
        self.bus = bus
        self.sms = sms or SmsSender(settings)
        self.limits = ForecastLimits(
            high=settings.forecast_high,
            extreme=settings.forecast_extreme,
            recover=min(settings.alert_recover, settings.forecast_high),
            predispatch_h=settings.forecast_alert_predispatch_h,
            ease_below=settings.forecast_alert_ease_below,
        )
        self.kv: KeyValue | None = None
        self.loop = ConsumeLoop(
            bus,
            ConsumerSpec(
                settings.forecast_alerts_durable,
                (DISPATCH_PRICE, P5MIN_PRICE, PREDISPATCH_PRICE),
                max_deliver=-1,
                ack_wait_s=settings.alerts_ack_wait_s,
                backoff_s=(),
                max_ack_pending=1,  # strictly in stream order, also across a redelivery
            ),
            self.handle,
            batch=1,
        )

    async def start(self) -> KeyValue:
        """Bind the KV bucket (the price alerts' bucket)."""
        self.kv = await self.bus.kv(BUCKET, history=1)
        return self.kv

    async def handle(self, message: Msg) -> None:
        """Take one run or dispatch price into every watched region's machine."""
        event: Message = decode_message(message)
        limits = self.limits
        if isinstance(event, DispatchPrice):
            at = nem_time(event.interval)
            for row in sorted(event.rows, key=lambda r: r.regionid):  # regions in name order
                if row.intervention == PRICING_RUN and row.regionid in self.settings.regions:
                    price = partial(with_dispatch, interval=at, rrp=row.rrp, limits=limits)
                    await self.take(row.regionid, price, "dispatch", event.source_file)
            return
        if not isinstance(event, P5minPrice | PredispatchPrice):
            raise Permanent(f"{message.subject} is no input of the early warnings")
        if isinstance(event, PredispatchPrice) and limits.predispatch_h <= 0:
            return  # P5MIN only
        rows: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for forecast in event.rows:
            if forecast.intervention == PRICING_RUN and forecast.regionid in self.settings.regions:
                rows[forecast.regionid].append((nem_time(forecast.interval_datetime), forecast.rrp))
        run = nem_time(event.interval)
        take_in = with_p5min if isinstance(event, P5minPrice) else with_predispatch
        kind = "p5min" if isinstance(event, P5minPrice) else "predispatch"
        for region, points in sorted(rows.items()):
            forecast_run = partial(take_in, run=run, rows=points, limits=limits)
            await self.take(region, forecast_run, kind, event.source_file)

    async def take(self, region: str, update: Update, kind: str, source: str) -> None:
        """One input into one region: deliver what changes, then swap the region's state."""
        kv = self.kv or await self.start()
        key = f"forecast.{region}"
        entry = await kv_get(kv, key)
        before = ForecastState.load(entry.value if entry else None)
        taken = update(before)
        if taken is None:
            INPUTS_SKIPPED.labels(kind).inc()
            return
        after, transitions = advance(before, taken, self.limits)
        for transition in transitions:
            await self._deliver(region, transition, source)
        if await kv_swap(kv, key, after.dump(), revision=entry.revision if entry else None) is None:
            raise Transient(f"{region} forecast state changed under us")  # another replica

    async def _deliver(self, region: str, transition: Transition, source: str) -> None:
        kv = self.kv
        assert kv is not None
        name = forecast_alert_id(region, transition)
        point = transition.point
        bound = log.bind(
            region=region,
            alert=transition.event,
            episode=transition.episode,
            now=transition.now.isoformat(),
            interval=point.interval.isoformat() if point else None,
            rrp=point.rrp if point else None,
        )
        text = forecast_text(region, transition) if transition.texted else None
        if text is not None:
            age = (datetime.now(UTC) - transition.now).total_seconds()
            retry = False
            if age > self.settings.forecast_alert_max_age_s:
                bound.info("forecast_alert_too_old_for_sms", age_s=round(age))
                UNSENT.labels("too_old").inc()
            else:
                for recipient in self.settings.sms_recipients:
                    key = f"sent.{name}.{recipient_key(recipient)}"
                    outcome = await send_once(kv, self.sms, key, recipient, text)
                    retry |= outcome == "retry"
            if retry:
                raise Transient(f"SMS for {name} not yet delivered to everyone", delay_s=30.0)
        alert = ForecastAlert(
            feed="alerts",
            source_file=source,
            interval=transition.now,
            regionid=region,
            state=transition.event,
            previous_state=transition.previous,
            episode=transition.episode,
            forecast_interval=point.interval if point else None,
            rrp=point.rrp if point else None,
            source=point.source if point else None,
            threshold=transition.threshold,
        )
        await self.bus.publish(ALERTS_FORECAST, alert, msg_id=f"alert:{name}")
        if text is not None:
            await kv.put(f"log.{transition.now:%Y%m%d}.{name}", text.encode())
        if transition.event in ("high", "extreme") and point is not None:
            LEAD.observe((point.interval - transition.now).total_seconds() / 60)
        WARNINGS.labels(region, transition.event).inc()
        bound.info("forecast_alert", text=text, previous=transition.previous)
