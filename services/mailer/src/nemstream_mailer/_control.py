"""Test mails from the status page or the API (``control.mailer.test``): one mail with the
request's message to the configured recipients, through the mailer's own SMTP sender (its
settings, retries and TLS), so a test proves what a new-unit mail would meet."""

from __future__ import annotations

from nemstream_bus import Bus
from nemstream_control import MAILER_TEST, ControlWorker, JobFailed, Progress, TestAlertRequest
from nemstream_mailer.settings import MailerSettings
from nemstream_notify import MailError, MailSender

DURABLE = "control-mailer-test"
SUBJECT = "nemstream test mail"


def mail_test_body(request: TestAlertRequest) -> str:
    """The body of a test mail."""
    by = f" by {request.requested_by}" if request.requested_by else ""
    return (
        f"{request.message}\n\n"
        f"A test of nemstream's mail, asked for{by} from the status page or the API "
        f"(job {request.job}). Nothing else is wrong.\n"
    )


def mail_test_worker(
    settings: MailerSettings, bus: Bus, mail: MailSender
) -> ControlWorker[TestAlertRequest]:
    """The worker that sends test mails."""

    async def handle(request: TestAlertRequest, progress: Progress) -> dict[str, object]:
        recipients = settings.mail_recipients
        if not recipients:
            raise JobFailed("no mail recipients are configured: set NEMSTREAM_ALERT_EMAIL_TO")
        await progress(total=1, detail=f"sending to {len(recipients)} recipients")
        try:
            await mail.send(SUBJECT, mail_test_body(request), recipients)
        except MailError as exc:
            raise JobFailed(str(exc)) from exc
        await progress(done=1, total=1)
        summary = (
            f"dry run (no NEMSTREAM_SMTP_HOST): mail to {len(recipients)} recipients logged, "
            "not sent"
            if mail.dry_run
            else f"mail sent to {len(recipients)} recipients"
        )
        return {"recipients": len(recipients), "dry_run": mail.dry_run, "summary": summary}

    return ControlWorker(bus, MAILER_TEST, DURABLE, TestAlertRequest, handle)
