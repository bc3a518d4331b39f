"""`python -m nemstream_alerts`: the price-alert service (same as `nemstream alerts`)."""

from __future__ import annotations

from nemstream_alerts.cli import alerts


def main() -> None:
    """Run the price-alert service."""
    alerts(prog_name="nemstream-alerts")


if __name__ == "__main__":
    main()
