"""Data-freshness alerts: a feed that has published nothing for a while, and its recovery.

Every `freshness_check_s` the newest message of each watched feed's subject is looked up in the
stream (its stored time: when nemstream published it). Quiet longer than the feed's limit
(15 minutes for 5-minute feeds, an hour for rooftop PV by default) is *stale*. Each change
(fresh → stale, stale → fresh) is claimed in KV with a compare-and-set, so of several replicas
exactly one sends it, then it goes to SMS and/or mail as configured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue
from prometheus_client import Gauge

from nemstream_alerts.settings import AlertSettings
from nemstream_bus import Bus, kv_create, kv_get, kv_swap
from nemstream_market import NEM_TZ
from nemstream_notify import MailError, MailSender, SmsSender, split
from nemstream_runtime import get_logger

log = get_logger(__name__)

STALE = Gauge("nemstream_feed_stale", "1 while a feed has published nothing for too long", ["feed"])
AGE = Gauge("nemstream_feed_age_seconds", "Seconds since a feed last published", ["feed"])


def stale_text(feed: str, last: datetime, age_s: float) -> str:
    """SMS/mail text when a feed goes quiet."""
    at = last.astimezone(NEM_TZ).strftime("%H:%M")
    return f"⏳ NEM data stale: no {feed} data for {age_s / 60:.0f} min (last at {at} NEM time)"


def fresh_text(feed: str, last: datetime) -> str:
    """SMS/mail text when it publishes again."""
    at = last.astimezone(NEM_TZ).strftime("%H:%M")
    return f"✅ NEM data flowing again: {feed} at {at} NEM time"


class Freshness:
    """Watches the feeds and alerts on changes."""

    def __init__(
        self, settings: AlertSettings, bus: Bus, kv: KeyValue, sms: SmsSender, mail: MailSender
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.kv = kv
        self.sms = sms
        self.mail = mail

    async def check(self, now: datetime | None = None) -> list[str]:
        """Look at every feed once; returns the texts sent."""
        now = now or datetime.now(UTC)
        sent = []
        for feed, subject in self.settings.feeds.items():
            try:
                last = await self.bus.js.get_last_msg(self.bus.settings.stream_name, subject)
            except NotFoundError:
                continue  # never published: nothing to be stale about yet
            if last.time is None:
                continue
            age = (now - last.time).total_seconds()
            AGE.labels(feed).set(age)
            stale = age > self.settings.stale_after(feed)
            STALE.labels(feed).set(int(stale))
            if await self._claim(feed, stale, last.seq or 0):
                text = stale_text(feed, last.time, age) if stale else fresh_text(feed, last.time)
                if stale:
                    log.warning("feed_stale", feed=feed, age_s=round(age))
                else:
                    log.info("feed_fresh", feed=feed, age_s=round(age))
                await self._notify(text)
                sent.append(text)
        return sent

    async def _claim(self, feed: str, stale: bool, seq: int) -> bool:
        key = f"fresh.{feed}"
        value = json.dumps({"stale": stale, "seq": seq}).encode()
        entry = await kv_get(self.kv, key)
        if entry is None:  # never stale before: only going stale is news
            return stale and await kv_create(self.kv, key, value) is not None
        before = json.loads(entry.value or b"{}").get("stale", False)
        if before == stale:
            return False
        # of several replicas, the one whose compare-and-set lands sends it
        return await kv_swap(self.kv, key, value, revision=entry.revision) is not None

    async def _notify(self, text: str) -> None:
        channels = split(self.settings.freshness_channels)
        if "sms" in channels:
            for recipient in self.settings.sms_recipients:
                await self.sms.send(recipient, text)
        if "email" in channels:
            try:
                await self.mail.send(text, text)
            except MailError as exc:
                log.error("freshness_mail_failed", error=str(exc))
