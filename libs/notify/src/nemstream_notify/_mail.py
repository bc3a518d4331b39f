"""Mail over SMTP (STARTTLS, implicit TLS or plain) with auth from configuration; transient
failures (connection, 4xx replies) retried with back-off; the password never logged."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib
from prometheus_client import Counter

from nemstream_notify._retry import retrying
from nemstream_notify._settings import NotifySettings
from nemstream_runtime import get_logger

log = get_logger(__name__)

MAIL = Counter("nemstream_mail", "Mails by outcome", ["outcome"])


class MailError(Exception):
    """A mail could not be sent (after retries, or refused for good)."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False  # a certificate that does not verify will not verify next time either
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return isinstance(
        exc,
        aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | OSError | TimeoutError,
    )


class MailSender:
    """Sends one message to the configured (or given) recipients."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    @property
    def dry_run(self) -> bool:
        """No SMTP host: mail is logged only."""
        return not self.settings.smtp_host

    def message(self, subject: str, body: str, to: list[str] | None = None) -> EmailMessage:
        """The message as it will be sent."""
        mail = EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = ", ".join(to if to is not None else self.settings.mail_recipients)
        mail["Subject"] = subject
        mail.set_content(body)
        return mail

    async def _send_once(self, mail: EmailMessage) -> None:
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        context = ssl.create_default_context(cafile=s.smtp_ca_file)
        await aiosmtplib.send(
            mail,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=password,
            use_tls=s.smtp_tls == "ssl",
            start_tls=s.smtp_tls == "starttls",
            tls_context=context if s.smtp_tls != "none" else None,
            timeout=s.smtp_timeout_s,
        )

    async def send(self, subject: str, body: str, to: list[str] | None = None) -> None:
        """Send, retrying transient failures; raises `MailError` when it cannot."""
        recipients = to if to is not None else self.settings.mail_recipients
        if not recipients:
            log.warning("mail_no_recipients", subject=subject)
            MAIL.labels("no_recipients").inc()
            return
        mail = self.message(subject, body, recipients)
        if self.dry_run:
            log.info("mail_dry_run", subject=subject, to=len(recipients), body=body)
            MAIL.labels("dry_run").inc()
            return

        try:
            async for attempt in retrying(
                self.settings, _transient, MAIL, "mail_retry", subject=subject
            ):
                with attempt:
                    await self._send_once(mail)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.error("mail_failed", subject=subject, error=repr(exc))
            MAIL.labels("failed").inc()
            raise MailError(f"mail {subject!r} not sent: {exc}") from exc
        log.info("mail_sent", subject=subject, to=len(recipients))
        MAIL.labels("sent").inc()
