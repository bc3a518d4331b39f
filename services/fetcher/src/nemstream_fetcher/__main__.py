"""`python -m nemstream_fetcher [--feed F]`: run a fetcher (same as `nemstream fetch`)."""

from __future__ import annotations

from nemstream_fetcher.cli import fetch


def main() -> None:
    """Run the fetcher command."""
    fetch(prog_name="nemstream-fetcher")


if __name__ == "__main__":
    main()
