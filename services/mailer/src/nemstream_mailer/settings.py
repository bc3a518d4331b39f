"""The DUID discovery mailer's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from nemstream_notify import NotifySettings
from nemstream_runtime import ServiceSettings


class MailerSettings(NotifySettings, ServiceSettings):
    """Batching window and registry checks; SMTP and recipients come from `NotifySettings`."""

    metrics_port: int = Field(9121, description="health/metrics port (-1: none)")
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the registry is in it")
    mailer_window_s: float = Field(
        300.0, ge=0, description="new DUIDs seen within this window go in one mail"
    )
    mailer_check_s: float = Field(5.0, gt=0, description="how often the outbox is looked at")
    registry_check_s: float = Field(
        3600.0, gt=0, description="how often registry changes are checked"
    )
    mailer_durable: str = Field("mailer", description="durable consumer name")
