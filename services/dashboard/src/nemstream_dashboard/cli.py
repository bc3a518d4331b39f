"""`nemstream dashboard`."""

from __future__ import annotations

import click


@click.command(help="The analysts' dashboard in the browser (NEMSTREAM_DASHBOARD_PORT, 5006).")
def dashboard() -> None:
    """Serve the dashboard until SIGTERM/SIGINT."""
    from nemstream_dashboard._service import serve
    from nemstream_dashboard.settings import DashboardSettings
    from nemstream_runtime import configure_logging, load_settings

    configure_logging()
    serve(load_settings(DashboardSettings))
