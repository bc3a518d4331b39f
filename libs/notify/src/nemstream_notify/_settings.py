"""Where notifications go and how they are sent (names fixed by docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from nemstream_runtime import NemstreamSettings


def split(value: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


class NotifySettings(NemstreamSettings):
    """Twilio and SMTP credentials and recipients (all optional: without them, dry run)."""

    twilio_account_sid: str | None = Field(None, description="Twilio account SID")
    twilio_auth_token: SecretStr | None = Field(None, description="Twilio auth token (secret)")
    twilio_from: str | None = Field(None, description="sender number or messaging service")
    twilio_base_url: str | None = Field(
        None, description="Twilio API base URL (default Twilio's; tests: a local endpoint)"
    )
    alert_sms_to: str = Field("", description="SMS recipients, comma list")
    smtp_host: str | None = Field(None, description="SMTP server (unset: mail is logged only)")
    smtp_port: int = Field(587, description="SMTP port")
    smtp_user: str | None = Field(None, description="SMTP user")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (secret)")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field("starttls", description="SMTP TLS mode")
    smtp_timeout_s: float = Field(30.0, gt=0, description="SMTP timeout, seconds")
    smtp_ca_file: Path | None = Field(
        None, description="CA certificates to trust for the SMTP server (a private CA)"
    )
    mail_from: str = Field("nemstream@localhost", description="mail sender")
    alert_email_to: str = Field("", description="mail recipients, comma list")
    notify_attempts: int = Field(5, ge=1, description="tries per message before giving up")
    notify_backoff_s: float = Field(1.0, gt=0, description="first retry delay (doubles)")
    notify_backoff_max_s: float = Field(60.0, gt=0, description="longest retry delay")

    @property
    def sms_recipients(self) -> list[str]:
        """Numbers that get SMS."""
        return split(self.alert_sms_to)

    @property
    def mail_recipients(self) -> list[str]:
        """Addresses that get mail."""
        return split(self.alert_email_to)

    @property
    def sms_dry_run(self) -> bool:
        """No Twilio credentials: log texts instead of sending them."""
        return not (self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)
