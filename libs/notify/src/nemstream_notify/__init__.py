"""Notifications people rely on: SMS through the real Twilio client and mail over SMTP, both
retried on transient failures, both with a dry run that logs instead of sending."""

from nemstream_notify._mail import MailError, MailSender
from nemstream_notify._settings import NotifySettings, split
from nemstream_notify._sms import Outcome, SmsResult, SmsSender, mask, recipient_key

__all__ = [
    "MailError",
    "MailSender",
    "NotifySettings",
    "Outcome",
    "SmsResult",
    "SmsSender",
    "mask",
    "recipient_key",
    "split",
]
