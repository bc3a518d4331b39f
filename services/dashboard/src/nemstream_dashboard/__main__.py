"""`python -m nemstream_dashboard`: the dashboard (same as `nemstream dashboard`)."""

from __future__ import annotations

from nemstream_dashboard.cli import dashboard


def main() -> None:
    """Serve the dashboard."""
    dashboard(prog_name="nemstream-dashboard")


if __name__ == "__main__":
    main()
