"""`python -m nemstream_writer`: the writer service (same as `nemstream write`)."""

from __future__ import annotations

from nemstream_writer.cli import write


def main() -> None:
    """Run the writer."""
    write(prog_name="nemstream-writer")


if __name__ == "__main__":
    main()
