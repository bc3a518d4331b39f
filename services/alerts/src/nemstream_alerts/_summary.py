"""The optional daily summary: after midnight (NEM time), one mail listing the previous day's
price alerts (or saying there were none). Claimed in KV so it goes once, even with replicas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nats.js.kv import KeyValue

from nemstream_alerts._alerts import BUCKET
from nemstream_bus import Bus, kv_create, kv_values
from nemstream_market import NEM_TZ
from nemstream_notify import MailError, MailSender
from nemstream_runtime import get_logger

log = get_logger(__name__)


async def day_alerts(bus: Bus, kv: KeyValue, day: date) -> list[str]:
    """Texts of the alerts of one NEM day, in interval order."""
    keys = await bus.kv_keys(BUCKET, f"log.{day:%Y%m%d}")
    values = await kv_values(kv, sorted(keys, key=lambda k: k.split("_")[1]))
    return [value.decode() for value in values.values()]


async def send_summary(
    bus: Bus, kv: KeyValue, mail: MailSender, now: datetime | None = None
) -> bool:
    """Mail yesterday's summary if no one has; True when this call sent it."""
    today = (now or datetime.now(UTC)).astimezone(NEM_TZ).date()
    day = today - timedelta(days=1)
    claim = f"summary.{day:%Y%m%d}"
    if await kv_create(kv, claim, b"sending") is None:
        return False  # sent, or being sent, by another replica
    texts = await day_alerts(bus, kv, day)
    body = "\n".join(texts) if texts else "No price alerts."
    try:
        await mail.send(f"NEM price alerts on {day:%a %d %b %Y} ({len(texts)})", body)
    except MailError as exc:
        await kv.delete(claim)  # try again at the next check
        log.error("summary_failed", day=day.isoformat(), error=str(exc))
        return False
    await kv.put(claim, b"sent")
    log.info("summary_sent", day=day.isoformat(), alerts=len(texts))
    return True
