"""`python -m nemstream_aggregator`: the aggregator service (same as `nemstream aggregate`)."""

from __future__ import annotations

from nemstream_aggregator.cli import aggregate


def main() -> None:
    """Run the aggregator."""
    aggregate(prog_name="nemstream-aggregator")


if __name__ == "__main__":
    main()
