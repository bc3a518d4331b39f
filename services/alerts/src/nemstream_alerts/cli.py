"""`nemstream alerts`: the price-alert service."""

from __future__ import annotations

import asyncio

import click


@click.command(help="Price alerts by SMS and data-freshness alerts (NEMSTREAM_TWILIO_*, ...).")
def alerts() -> None:
    """Run the price-alert service until SIGTERM/SIGINT."""
    from nemstream_alerts._service import run_alerts
    from nemstream_alerts.settings import AlertSettings
    from nemstream_runtime import configure_logging, load_settings

    configure_logging()
    asyncio.run(run_alerts(load_settings(AlertSettings)))
