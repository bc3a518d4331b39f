"""`python -m nemstream_api`: the HTTP API (same as `nemstream api`)."""

from __future__ import annotations

from nemstream_api.cli import api


def main() -> None:
    """Run the API."""
    api(prog_name="nemstream-api")


if __name__ == "__main__":
    main()
