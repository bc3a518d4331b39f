"""`nemstream mailer`: the DUID discovery mailer."""

from __future__ import annotations

import asyncio

import click


@click.command(help="Mail new generating units and registry changes (NEMSTREAM_SMTP_*, ...).")
def mailer() -> None:
    """Run the mailer until SIGTERM/SIGINT."""
    from nemstream_mailer._service import run_mailer
    from nemstream_mailer.settings import MailerSettings
    from nemstream_runtime import configure_logging, load_settings

    configure_logging()
    asyncio.run(run_mailer(load_settings(MailerSettings)))
