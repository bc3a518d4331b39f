"""SMS with the real Twilio client: retried on server errors, rate limits and network faults;
a 4xx other than 429 is permanent (logged and counted, never retried). Numbers are masked in
logs and the auth token never appears there.

`SmsSender.find` asks Twilio's Messages list whether a text already went (same recipient and
body, created since a moment): a sender that died after Twilio accepted a message but before it
heard so looks there before sending again.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from prometheus_client import Counter
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from nemstream_notify._retry import retrying
from nemstream_notify._settings import NotifySettings
from nemstream_runtime import get_logger

log = get_logger(__name__)

SMS = Counter("nemstream_sms", "SMS by outcome", ["outcome"])
Outcome = Literal["sent", "failed", "retry"]

LOOKUP_PAGE = 50
"""Newest messages to a recipient looked at when checking whether a text already went."""


@dataclass(frozen=True, slots=True)
class SmsResult:
    """What became of one text: ``sent`` (Twilio accepted it; its message sid, None in dry
    run), ``failed`` (refused for good) or ``retry`` (Twilio unreachable through every retry)."""

    outcome: Outcome
    sid: str | None = None


def mask(number: str) -> str:
    """A number as logs show it: its last three digits."""
    return f"…{number[-3:]}" if len(number) > 3 else "…"


def recipient_key(recipient: str) -> str:
    """A stable, log- and KV-safe name for a recipient."""
    return hashlib.blake2b(recipient.encode(), digest_size=6).hexdigest()


def _status(exc: BaseException) -> int | None:
    """The HTTP status of a Twilio failure: a REST error's, or a failed list page's response
    (the client raises a plain ``TwilioException("Unable to fetch page", response)`` there)."""
    if isinstance(exc, TwilioRestException):
        return int(exc.status)
    if isinstance(exc, TwilioException) and len(exc.args) > 1:
        code = getattr(exc.args[1], "status_code", None)
        return int(code) if isinstance(code, int) else None
    return None


def _transient(exc: BaseException) -> bool:
    status = _status(exc)
    if status is not None:
        return status >= 500 or status == 429
    return isinstance(exc, RequestException | OSError)


class SmsSender:
    """Sends one text to one number at a time, in a thread (the Twilio client is blocking)."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._client: Client | None = None
        if not settings.sms_dry_run:
            token = settings.twilio_auth_token
            assert token is not None
            self._client = Client(settings.twilio_account_sid, token.get_secret_value())
            if settings.twilio_base_url:
                self._client.api.base_url = settings.twilio_base_url.rstrip("/")

    @property
    def dry_run(self) -> bool:
        """Whether texts are only logged."""
        return self._client is None

    def _create(self, to: str, body: str) -> str:
        assert self._client is not None
        message = self._client.messages.create(to=to, from_=self.settings.twilio_from, body=body)
        return str(message.sid)

    def _recent(self, to: str, body: str, since: datetime) -> str | None:
        assert self._client is not None
        for message in self._client.messages.list(
            to=to, from_=self.settings.twilio_from, limit=LOOKUP_PAGE, page_size=LOOKUP_PAGE
        ):
            created = message.date_created
            if message.body == body and created is not None and created >= since:
                return str(message.sid)
        return None

    async def find(self, to: str, body: str, *, since: datetime) -> str | None:
        """The sid of a text with this body to this number created at or after `since`, if
        Twilio has one (None in dry run, or when Twilio cannot be asked: then the caller sends,
        and at worst a text goes twice rather than never)."""
        if self._client is None:
            return None
        try:
            async for attempt in retrying(self.settings, _transient, SMS, "sms_lookup_retry"):
                with attempt:
                    return await asyncio.to_thread(self._recent, to, body, since.astimezone(UTC))
        except (TwilioException, RequestException, OSError) as exc:
            log.error("sms_lookup_failed", to=mask(to), error=repr(exc), effect="sending")
        return None

    async def send(self, to: str, body: str) -> SmsResult:
        """Send: ``sent`` once Twilio accepted it (or logged in dry run), ``failed`` when Twilio
        refused it for good (4xx), ``retry`` when it stayed unreachable through every retry."""
        if self._client is None:
            log.info("sms_dry_run", to=mask(to), body=body)
            SMS.labels("dry_run").inc()
            return SmsResult("sent")

        try:
            async for attempt in retrying(self.settings, _transient, SMS, "sms_retry", to=mask(to)):
                with attempt:
                    sid = await asyncio.to_thread(self._create, to, body)
        except TwilioRestException as exc:
            if _transient(exc):
                log.error("sms_unreachable", to=mask(to), status=exc.status, error=exc.msg)
                SMS.labels("unreachable").inc()
                return SmsResult("retry")
            log.error("sms_failed", to=mask(to), status=exc.status, code=exc.code, error=exc.msg)
            SMS.labels("failed").inc()
            return SmsResult("failed")
        except (RequestException, OSError) as exc:
            log.error("sms_unreachable", to=mask(to), error=repr(exc))
            SMS.labels("unreachable").inc()
            return SmsResult("retry")
        log.info("sms_sent", to=mask(to), sid=sid)
        SMS.labels("sent").inc()
        return SmsResult("sent", sid)
