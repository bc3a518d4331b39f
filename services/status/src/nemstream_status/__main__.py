"""`python -m nemstream_status`: the status page (same as `nemstream status`)."""

from __future__ import annotations

from nemstream_status.cli import status


def main() -> None:
    """Serve the status page."""
    status(prog_name="nemstream-status")


if __name__ == "__main__":
    main()
